import { describe, expect, it } from 'vitest';
import { flagLines, parseArgv, readArgv, type ArgvRules, type FlagSpec } from '../../src/core/argv.ts';
import { UsageError, exitCodeFor } from '../../src/core/errors.ts';

const SPECS: FlagSpec[] = [
  { name: 'out', value: '<file>', help: 'where to write' },
  { name: 'input', value: '<file>', repeatable: true, help: 'read this (repeatable)' },
  { name: 'json', help: 'machine output' },
];
const FILES: ArgvRules = { positional: true, emptyValues: false };
const FLAGS_ONLY: ArgvRules = { positional: false, emptyValues: true };

function usage(argv: string[], rules: ArgvRules): UsageError {
  try {
    parseArgv(argv, SPECS, rules);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error(`no error for ${JSON.stringify(argv)}`);
}

describe('the CLI flag parser', () => {
  it('reads booleans, strings (last wins) and lists, as --flag value and --flag=value', () => {
    const p = parseArgv(['a.json', '--out', 'x', '--input=1', '--json', '--input', '2', '--out=y', 'b.json'], SPECS, FILES);
    expect(p.positional).toEqual(['a.json', 'b.json']);
    expect(p.values).toEqual(new Map([['out', 'y']]));
    expect(p.lists).toEqual(new Map([['input', ['1', '2']]]));
    expect(p.booleans).toEqual(new Set(['json']));
  });

  it('an unknown flag names itself and every valid one, and exits 2', () => {
    const e = usage(['--outt', 'x'], FILES);
    expect(e.message).toBe('unknown flag --outt; valid flags: --out --input --json');
    expect(exitCodeFor(e)).toBe(2);
  });

  it('refuses a missing value, a value on a boolean, and (by rule) an empty value', () => {
    expect(usage(['--out'], FILES).message).toBe('--out needs a value <file>');
    expect(usage(['--out', '--json'], FILES).message).toBe('--out needs a value <file>');
    expect(usage(['--json=yes'], FILES).message).toBe('--json takes no value');
    expect(usage(['--out='], FILES).message).toBe('--out needs a value <file>');
    expect(parseArgv(['--out='], SPECS, FLAGS_ONLY).values.get('out')).toBe('');
    expect(parseArgv(['--out=--json'], SPECS, FILES).values.get('out')).toBe('--json');
  });

  it('positional arguments: collected, "--" ends the flags; or refused where a CLI takes none', () => {
    expect(parseArgv(['--', '--json', 'x'], SPECS, FILES).positional).toEqual(['--json', 'x']);
    expect(usage(['x'], FLAGS_ONLY).message).toBe('unexpected argument "x"; flags are: --out --input --json');
    expect(usage(['--'], FLAGS_ONLY).message).toMatch(/^unknown flag --; valid flags:/);
  });

  it('hands items over in command-line order, so the first bad argument is the one reported', () => {
    const seen: string[] = [];
    expect(() => {
      for (const item of readArgv(['--out', 'x', '--nope', '--json'], SPECS, FLAGS_ONLY)) if ('flag' in item) seen.push(item.flag.name);
    }).toThrow(/unknown flag --nope/);
    expect(seen).toEqual(['out']);
  });

  it('lists the flags aligned for --help', () => {
    expect(flagLines(SPECS)).toEqual(['  --out <file>    where to write', '  --input <file>  read this (repeatable)', '  --json          machine output']);
  });
});
