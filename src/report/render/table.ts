/**
 * Terminal conventions shared by every busbench CLI: aligned plain-text tables, and
 * colour only when a person is looking (a TTY) and has not asked for none (NO_COLOR,
 * https://no-color.org: any non-empty value disables colour).
 */

export type Align = 'l' | 'r';

export interface TableOptions {
  /** per column; by default a column is right-aligned when every non-empty cell is numeric */
  align?: Align[];
}

const ANSI = /\x1b\[[0-9;]*m/g; // eslint-disable-line no-control-regex

/** Width on screen: escape codes take no space; every code point (µ, ─, …) takes one. */
export function visibleWidth(s: string): number {
  return [...s.replace(ANSI, '')].length;
}

const NUMERIC = /^[-+]?[\d.,]+(e[-+]?\d+)?\s?[%a-zµ/]*$/i;

function looksNumeric(cell: string | number): boolean {
  return typeof cell === 'number' || NUMERIC.test(cell.replace(ANSI, '').trim());
}

function defaultAlign(rows: (string | number)[][], column: number): Align {
  const cells = rows.map((r) => r[column]).filter((c): c is string | number => c !== undefined && c !== '');
  return cells.length > 0 && cells.every(looksNumeric) ? 'r' : 'l';
}

/**
 * Columns separated by two spaces, a rule of ─ under the header, no trailing blanks.
 * Numbers are printed as given (format them first if they need units or rounding).
 */
export function formatTable(headers: string[], rows: (string | number)[][], opts: TableOptions = {}): string {
  const text = rows.map((r) => headers.map((_, c) => String(r[c] ?? '')));
  const widths = headers.map((h, c) => Math.max(visibleWidth(h), ...text.map((r) => visibleWidth(r[c]!))));
  const align = headers.map((_, c) => opts.align?.[c] ?? defaultAlign(rows, c));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => {
        const pad = ' '.repeat(widths[c]! - visibleWidth(cell));
        return align[c] === 'r' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '─'.repeat(w))), ...text.map(line)].join('\n');
}

/** The part of a stream this module needs; process.stdout and process.stderr qualify. */
export interface OutputStream {
  isTTY?: boolean;
}

/** Colour only on a terminal, and never when NO_COLOR is set to anything but "". */
export function colorEnabled(stream: OutputStream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

export interface Palette {
  enabled: boolean;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

/** SGR helpers that become the identity when colour is off, so callers never branch. */
export function palette(stream: OutputStream = process.stdout, env: NodeJS.ProcessEnv = process.env): Palette {
  const on = colorEnabled(stream, env);
  const sgr =
    (code: number) =>
    (s: string): string =>
      on ? `\x1b[${code}m${s}\x1b[0m` : s;
  return { enabled: on, red: sgr(31), green: sgr(32), yellow: sgr(33), bold: sgr(1), dim: sgr(2) };
}

/** Chatter (progress, "wrote x") only for a person at a terminal; results are always printed. */
export function chatty(stream: OutputStream = process.stderr): boolean {
  return stream.isTTY === true;
}
