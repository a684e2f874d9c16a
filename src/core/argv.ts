/**
 * The one flag parser of every busbench CLI (bench, report, compare, gate). It knows the
 * shape of a command line, not what a value means: each CLI checks its own values, so
 * its messages can say what is valid for that flag. Anything it does not know is a
 * UsageError (exit 2) naming the flag and listing the valid ones, so a typo never passes
 * silently as a positional argument or a default.
 *
 * A flag's kind follows from its spec: no `value` placeholder is a boolean; a value is a
 * string, the last one given wins; `repeatable` collects every value as a list. Values
 * are given as `--flag value` or `--flag=value`.
 */
import { UsageError } from './errors.ts';

export interface FlagSpec {
  name: string;
  /** placeholder for the value, e.g. "<file>"; absent for a boolean flag */
  value?: string;
  /** may be given several times (values accumulate) */
  repeatable?: boolean;
  help: string;
}

/** Where the CLIs differ, said once per CLI instead of in a parser of its own. */
export interface ArgvRules {
  /**
   * true: bare words are collected and "--" ends the flags (report takes files);
   * false: a bare word is a UsageError (bench takes flags only).
   */
  positional: boolean;
  /** true: an empty value ("--out=") goes to the CLI, which names what it needs; false: "needs a value" */
  emptyValues: boolean;
}

export type ArgvItem<S extends FlagSpec> = { flag: S; value: string | undefined } | { positional: string };

export function validFlags(specs: FlagSpec[]): string {
  return specs.map((s) => `--${s.name}`).join(' ');
}

/**
 * The command line item by item, in order, so a CLI that checks each value as it comes
 * reports the first bad argument of the line, not the first of its spec list.
 */
export function* readArgv<S extends FlagSpec>(argv: string[], specs: S[], rules: ArgvRules): Generator<ArgvItem<S>> {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (rules.positional && arg === '--') {
      for (const rest of argv.slice(i + 1)) yield { positional: rest };
      return;
    }
    if (!arg.startsWith('--')) {
      if (!rules.positional) throw new UsageError(`unexpected argument "${arg}"; flags are: ${validFlags(specs)}`);
      yield { positional: arg };
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq > 0 ? eq : undefined);
    const spec = specs.find((s) => s.name === name);
    if (!spec) throw new UsageError(`unknown flag --${name}; valid flags: ${validFlags(specs)}`);
    if (!spec.value) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      yield { flag: spec, value: undefined };
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--')) || (!rules.emptyValues && value === '')) {
      throw new UsageError(`--${name} needs a value ${spec.value}`);
    }
    yield { flag: spec, value };
  }
}

export interface ParsedArgs {
  positional: string[];
  /** last value of each single-valued flag */
  values: Map<string, string>;
  /** every value of each repeatable flag, in order */
  lists: Map<string, string[]>;
  booleans: Set<string>;
}

/** The whole command line at once, for CLIs that check values after parsing. */
export function parseArgv(argv: string[], specs: FlagSpec[], rules: ArgvRules): ParsedArgs {
  const out: ParsedArgs = { positional: [], values: new Map(), lists: new Map(), booleans: new Set() };
  for (const item of readArgv(argv, specs, rules)) {
    if ('positional' in item) out.positional.push(item.positional);
    else if (item.value === undefined) out.booleans.add(item.flag.name);
    else if (item.flag.repeatable) out.lists.set(item.flag.name, [...(out.lists.get(item.flag.name) ?? []), item.value]);
    else out.values.set(item.flag.name, item.value);
  }
  return out;
}

/** The flags section of a --help text: one aligned line per flag. */
export function flagLines(specs: FlagSpec[]): string[] {
  const width = Math.max(...specs.map((s) => `--${s.name} ${s.value ?? ''}`.length));
  return specs.map((s) => `  ${`--${s.name} ${s.value ?? ''}`.padEnd(width)}  ${s.help}`);
}
