/**
 * The `keys` / `keySpace` workload fields and their flags: parsed, defaulted, refused in
 * one line naming the value and what is valid; and the key of a message, a function of
 * (producer, sequence).
 */
import { describe, expect, it } from 'vitest';
import { validateScenario } from '../../src/scenario/scenario.ts';
import { applyFlags, parseFlags } from '../../src/scenario/flags.ts';
import { ConfigError, UsageError } from '../../src/core/errors.ts';
import { keyIndex, refuseKeys } from '../../src/core/keys.ts';
import { adapter as nats } from '../../src/adapters/nats/index.ts';
import { adapter as ring } from '../../src/adapters/ringbuffer/index.ts';
import { adapter as pulsar } from '../../src/adapters/pulsar/index.ts';
import type { RunShape } from '../../src/core/contract.ts';

const systems = ['ringbuffer', 'nats', 'pulsar'];
const parse = (doc: Record<string, unknown>) => validateScenario(doc, 'x.yaml', systems);

function configError(doc: Record<string, unknown>): string {
  try {
    parse(doc);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('no error');
}

describe('keys in a scenario file', () => {
  it('are none by default, with a key space of 1000 once on', () => {
    expect(parse({}).keys).toEqual({ distribution: 'none', space: 0 });
    expect(parse({ keys: 'none' }).keys).toEqual({ distribution: 'none', space: 0 });
    expect(parse({ keys: 'round-robin' }).keys).toEqual({ distribution: 'round-robin', space: 1000 });
    expect(parse({ keys: 'random', keySpace: 16 }).keys).toEqual({ distribution: 'random', space: 16 });
  });

  it('refuse a bad distribution, a bad key space, and a key space without keys', () => {
    expect(configError({ keys: 'hash' })).toBe('x.yaml: keys: expected one of none, round-robin, random, got "hash"');
    expect(configError({ keys: 'random', keySpace: 0 })).toBe('x.yaml: keySpace: expected an integer from 1 to 1000000, got 0');
    expect(configError({ keys: 'random', keySpace: 2.5 })).toMatch(/keySpace: expected an integer from 1 to 1000000, got 2.5/);
    expect(configError({ keySpace: 10 })).toBe('x.yaml: keySpace: expected nothing unless keys is round-robin or random, got 10');
    expect(configError({ keys: 'none', keySpace: 10 })).toMatch(/keySpace: expected nothing unless keys/);
  });
});

describe('keys on the command line', () => {
  const withFlags = (doc: Record<string, unknown>, argv: string[]) => applyFlags(parse(doc), parseFlags(argv, systems));

  it('override the file: --keys the distribution, --key-space the space', () => {
    expect(withFlags({}, ['--keys', 'round-robin']).keys).toEqual({ distribution: 'round-robin', space: 1000 });
    expect(withFlags({}, ['--keys', 'random', '--key-space', '64']).keys).toEqual({ distribution: 'random', space: 64 });
    expect(withFlags({ keys: 'random', keySpace: 10 }, ['--keys', 'round-robin']).keys).toEqual({ distribution: 'round-robin', space: 10 });
    expect(withFlags({ keys: 'random', keySpace: 10 }, ['--key-space', '20']).keys).toEqual({ distribution: 'random', space: 20 });
    expect(withFlags({ keys: 'random', keySpace: 10 }, ['--keys', 'none']).keys).toEqual({ distribution: 'none', space: 0 });
    expect(withFlags({ keys: 'random' }, []).keys).toEqual({ distribution: 'random', space: 1000 });
  });

  it('refuse bad values in one line', () => {
    expect(() => parseFlags(['--keys', 'sorted'], systems)).toThrow(new UsageError('--keys sorted: expected one of none, round-robin, random'));
    expect(() => parseFlags(['--key-space', '0'], systems)).toThrow(new UsageError('--key-space 0: expected an integer from 1 to 1000000'));
    expect(() => withFlags({}, ['--key-space', '8'])).toThrow(new UsageError('--key-space 8: needs --keys round-robin or random (the scenario has no keys)'));
    expect(() => withFlags({ keys: 'random' }, ['--keys', 'none', '--key-space', '8'])).toThrow(/--key-space 8: needs --keys round-robin or random$/);
  });
});

describe('which systems take keys', () => {
  const shape = (keys: RunShape['keys']): RunShape => ({ producers: 1, consumers: 1, messageSize: 512, stages: 1, brokers: 'native', ...(keys ? { keys } : {}) });
  const on = { distribution: 'round-robin' as const, space: 10 };

  it('every system takes them, but the ring and nats not with pipeline stages', () => {
    expect(() => ring.checkRun!(ring.parseOptions(undefined, 'x.yaml'), shape(on), 'x.yaml')).not.toThrow();
    expect(() => ring.checkRun!(ring.parseOptions(undefined, 'x.yaml'), { ...shape(on), stages: 2 }, 'x.yaml')).toThrow(/x.yaml: keys: expected none with pipeline stages on ringbuffer, got "round-robin"/);
    expect(() => pulsar.checkRun!(pulsar.parseOptions(undefined, 'x.yaml'), shape(on), 'x.yaml')).not.toThrow();
    expect(() => nats.checkRun!(nats.parseOptions(undefined, 'x.yaml'), shape(on), 'x.yaml')).not.toThrow();
    expect(() => nats.checkRun!(nats.parseOptions({ mode: 'core' }, 'x.yaml'), shape(on), 'x.yaml')).toThrow(/x.yaml: keys: expected none with nats.mode core \(partitions and keys are subjects of a JetStream stream/);
    expect(() => nats.checkRun!(nats.parseOptions(undefined, 'x.yaml'), { ...shape(on), stages: 4 }, 'x.yaml')).toThrow(/x.yaml: keys: expected none with pipeline stages on nats/);
    expect(() => nats.checkRun!(nats.parseOptions(undefined, 'x.yaml'), shape({ distribution: 'none', space: 0 }), 'x.yaml')).not.toThrow();
    expect(() => refuseKeys(undefined, 'x', 'nats')).not.toThrow();
  });

  it('pulsar refuses keys with transactions (a transactional stage forwards without keys)', () => {
    expect(() => pulsar.checkRun!(pulsar.parseOptions({ transactions: 'on' }, 'x.yaml'), shape(on), 'x.yaml')).toThrow(/x.yaml: keys: expected none with pulsar.transactions on/);
  });
});

describe('the key of a message', () => {
  it('round-robin: consecutive sequences take consecutive keys', () => {
    const plan = { distribution: 'round-robin' as const, space: 4 };
    expect([0, 1, 2, 3, 4, 5].map((s) => keyIndex(plan, 0, s))).toEqual([0, 1, 2, 3, 0, 1]);
  });

  it('random: spread over the whole space, the same for the same message, different per producer', () => {
    const plan = { distribution: 'random' as const, space: 10 };
    const counts = new Array<number>(10).fill(0);
    for (let s = 0; s < 10_000; s++) counts[keyIndex(plan, 3, s)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(850);
    expect(keyIndex(plan, 3, 77)).toBe(keyIndex(plan, 3, 77));
    const differ = Array.from({ length: 100 }, (_, s) => keyIndex(plan, 0, s) !== keyIndex(plan, 1, s)).filter(Boolean).length;
    expect(differ).toBeGreaterThan(70);
    expect(keyIndex({ distribution: 'none', space: 0 }, 0, 5)).toBe(-1);
  });
});
