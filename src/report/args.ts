/**
 * A small flag parser for the report, compare and gate CLIs. Anything it does not know
 * is a UsageError naming the flag and listing the valid ones, so a typo never passes
 * silently as a positional argument.
 */
import { UsageError } from '../core/errors.ts';

export interface FlagSpec {
  name: string;
  /** placeholder for the value, e.g. "<file>"; absent for a boolean flag */
  value?: string;
  /** may be given several times (values accumulate) */
  repeatable?: boolean;
  help: string;
}

export interface ParsedArgs {
  positional: string[];
  /** last value of each single-valued flag */
  values: Map<string, string>;
  /** every value of each repeatable flag, in order */
  lists: Map<string, string[]>;
  booleans: Set<string>;
}

export function parseArgs(argv: string[], specs: FlagSpec[]): ParsedArgs {
  const out: ParsedArgs = { positional: [], values: new Map(), lists: new Map(), booleans: new Set() };
  const valid = (): string => specs.map((s) => `--${s.name}`).join(' ');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      out.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq > 0 ? eq : undefined);
    const spec = specs.find((s) => s.name === name);
    if (!spec) throw new UsageError(`unknown flag --${name}; valid flags: ${valid()}`);
    if (!spec.value) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      out.booleans.add(name);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--')) || value === '') throw new UsageError(`--${name} needs a value ${spec.value}`);
    if (spec.repeatable) out.lists.set(name, [...(out.lists.get(name) ?? []), value]);
    else out.values.set(name, value);
  }
  return out;
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
  const width = Math.max(...specs.map((s) => `--${s.name} ${s.value ?? ''}`.length));
  return [
    `usage: npm run ${command} -- ${synopsis}`,
    '',
    'flags:',
    ...specs.map((s) => `  ${`--${s.name} ${s.value ?? ''}`.padEnd(width)}  ${s.help}`),
    ...(notes.length ? ['', ...notes] : []),
  ].join('\n');
}
