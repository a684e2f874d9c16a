import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.ts';
import { describeChoices, durations, integer, oneOf, onOff, parseBytes, sectionOf, SectionReader, sizes } from '../../src/core/options.ts';

describe('option toolkit', () => {
  it('lists valid words in the style each caller has always used', () => {
    expect(describeChoices(['a', 'b'])).toBe('"a" or "b"');
    expect(describeChoices(['a', 'b', 'c'])).toBe('one of a, b, c');
    expect(describeChoices(['a', 'b', 'c'], 'or')).toBe('"a" or "b" or "c"');
    expect(describeChoices(['a', 'b'], 'list')).toBe('one of a, b');
    expect(() => oneOf('f.yaml', 'x.mode', 'c', ['a', 'b'])).toThrow('f.yaml: x.mode: expected "a" or "b", got "c"');
  });

  it('reads on/off as words or YAML booleans', () => {
    expect([onOff('f', 'x', 'on'), onOff('f', 'x', true), onOff('f', 'x', 'off'), onOff('f', 'x', false)]).toEqual([true, true, false, false]);
    expect(() => onOff('f', 'x.msgId', 'yes')).toThrow('f: x.msgId: expected "on" or "off", got "yes"');
  });

  it('bounds integers, with or without a maximum', () => {
    expect(integer('f', 'n', 5, { min: 1, max: 8 })).toBe(5);
    expect(() => integer('f', 'n', 9, { min: 1, max: 8 })).toThrow('f: n: expected an integer from 1 to 8, got 9');
    expect(() => integer('f', 'n', -2, { min: -1, hint: ' (-1: no limit)' })).toThrow('f: n: expected an integer >= -1 (-1: no limit), got -2');
    expect(() => integer('f', 'n', 1.5, { min: 0 })).toThrow(ConfigError);
  });

  it('reads sizes with binary units, and checks range and powers of two', () => {
    expect([parseBytes(64), parseBytes('64KiB'), parseBytes('4 mib'), parseBytes('1g'), parseBytes('4 parsecs')]).toEqual([64, 65536, 4 << 20, 1 << 30, undefined]);
    const range = { min: 64, max: 1 << 30, powerOfTwo: true, expected: 'a power of two' };
    expect(sizes('f', 'c', '64KiB', range)).toBe(65536);
    expect(() => sizes('f', 'c', 1000, range)).toThrow('f: c: expected a power of two, got 1000');
    expect(() => sizes('f', 'c', '2GiB', range)).toThrow(ConfigError);
  });

  it('reads durations, refusing the minimum itself when exclusive', () => {
    expect(durations('f', 'd', '2m', { minMs: 0, expected: 'a duration' })).toBe(120_000);
    expect(durations('f', 'd', 0, { minMs: 0, expected: 'a duration' })).toBe(0);
    expect(() => durations('f', 'd', '0ms', { minMs: 0, exclusive: true, expected: 'a duration' })).toThrow('f: d: expected a duration, got "0ms"');
  });

  it('refuses a section that is not a mapping of known fields, and fills defaults', () => {
    expect(sectionOf(undefined, 'f', 'sys', ['a'], 'sys options')).toBeUndefined();
    expect(() => sectionOf([1], 'f', 'sys', ['a'], 'sys options')).toThrow('f: sys: expected a mapping of sys options, got [1]');
    expect(() => sectionOf({ b: 1 }, 'f', 'sys', ['a'], 'sys options')).toThrow('f: sys.b: expected one of the fields a, got "b"');
    const r = new SectionReader('f', 'sys', { a: 'off' });
    expect([r.onOffWord('a', 'on'), r.integer('n', { min: 0 }, 7)]).toEqual(['off', 7]);
    expect(() => r.refuse('a', '"on" here')).toThrow('f: sys.a: expected "on" here, got "off"');
  });
});
