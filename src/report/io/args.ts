/**
 * The report, compare and gate CLIs' flags: the shared parser (src/core/argv.ts) with
 * their rules (result files as positional arguments), and the value checks they share.
 */
import { flagLines, parseArgv, type FlagSpec, type ParsedArgs } from '../../core/argv.ts';
import { UsageError } from '../../core/errors.ts';

export type { FlagSpec, ParsedArgs };

export function parseArgs(argv: string[], specs: FlagSpec[]): ParsedArgs {
  return parseArgv(argv, specs, { positional: true, emptyValues: false });
}

/** "10%" → 0.1. Percentages only: a bare "10" could mean 10% or 1000%. */
export function parsePercent(flag: string, v: string, opts: { min?: number; max?: number } = {}): number {
  const m = /^(\d+(?:\.\d+)?)%$/.exec(v.trim());
  const n = m ? Number(m[1]) / 100 : NaN;
  const min = opts.min ?? 0;
  const max = opts.max ?? 10;
  if (!m || !(n >= min) || !(n <= max)) {
    throw new UsageError(`--${flag} ${v}: expected a percentage from ${min * 100}% to ${max * 100}%, e.g. 10%`);
  }
  return n;
}

/** A probability strictly between 0 and 1, e.g. --alpha 0.05. */
export function parseProbability(flag: string, v: string): number {
  const n = Number(v);
  if (!/^0?\.\d+$/.test(v.trim()) || !(n > 0 && n < 1)) throw new UsageError(`--${flag} ${v}: expected a number between 0 and 1, e.g. 0.05`);
  return n;
}

export function usageText(command: string, synopsis: string, specs: FlagSpec[], notes: string[] = []): string {
  return [
    `usage: npm run ${command} -- ${synopsis}`,
    '',
    'flags:',
    ...flagLines(specs),
    ...(notes.length ? ['', ...notes] : []),
  ].join('\n');
}
