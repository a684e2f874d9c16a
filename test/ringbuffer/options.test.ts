import { describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/ringbuffer/index.ts';
import { ConfigError } from '../../src/core/errors.ts';

const WHERE = 'scenarios/x.yaml: ringbuffer';

function configError(raw: unknown): ConfigError {
  try {
    adapter.parseOptions(raw, WHERE);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
}

describe('ringbuffer options', () => {
  const DEFAULTS = { capacity: 4 * 1024 * 1024, padding: 'on', wait: 'block', process: 'inline', journal: 'none', dedup: 'off' };

  it('fills in defaults', () => {
    expect(adapter.parseOptions(undefined, WHERE)).toEqual(DEFAULTS);
    expect(adapter.parseOptions({}, WHERE)).toEqual(DEFAULTS);
  });

  it('accepts the process, journal and dedup settings (dedup also as a YAML 1.1 boolean)', () => {
    expect(adapter.parseOptions({ process: 'child', journal: 'fsync', dedup: 'on' }, WHERE)).toMatchObject({ process: 'child', journal: 'fsync', dedup: 'on' });
    expect(adapter.parseOptions({ process: 'child', journal: 'none' }, WHERE)).toMatchObject({ process: 'child', journal: 'none' });
    expect(adapter.parseOptions({ dedup: true }, WHERE).dedup).toBe('on');
    expect(adapter.parseOptions({ dedup: false }, WHERE).dedup).toBe('off');
  });

  it('refuses a journal without a server process, in one line naming both fields', () => {
    const e = configError({ journal: 'fsync' });
    expect(e.field).toBe('ringbuffer.journal');
    expect(e.message).toMatch(/ringbuffer\.journal: expected "none" unless ringbuffer\.process is "child".*got "fsync"/);
    expect(e.message.split('\n')).toHaveLength(1);
  });

  it.each([
    [{}, { durability: 'none', acks: false, deduplication: false }],
    [{ dedup: 'on' }, { durability: 'none', acks: false, deduplication: true }],
    [{ process: 'child' }, { durability: 'none', acks: true, deduplication: false }],
    [{ process: 'child', journal: 'fsync', dedup: 'on' }, { durability: 'power-loss', acks: true, deduplication: true }],
  ])('capabilities of %j: %j, ordered per producer, offsets as the idempotency record', (raw, expected) => {
    expect(adapter.capabilities(adapter.parseOptions(raw, WHERE))).toEqual({ ...expected, perProducerOrdering: true, transactions: false, idempotencyRecord: 'offset' });
  });

  it('switches deduplication on for exactly-once and off for at-least-once', () => {
    expect(adapter.guaranteeOptions?.('exactly-once')).toEqual({ dedup: 'on' });
    expect(adapter.guaranteeOptions?.('at-least-once')).toEqual({ dedup: 'off' });
  });

  it('accepts capacities in bytes or with units, booleans for padding, and every wait mode', () => {
    expect(adapter.parseOptions({ capacity: 65536 }, WHERE).capacity).toBe(65536);
    expect(adapter.parseOptions({ capacity: '64KiB' }, WHERE).capacity).toBe(65536);
    expect(adapter.parseOptions({ capacity: '8 MiB' }, WHERE).capacity).toBe(8 << 20);
    expect(adapter.parseOptions({ padding: false }, WHERE).padding).toBe('off');
    expect(adapter.parseOptions({ padding: 'off' }, WHERE).padding).toBe('off');
    for (const wait of ['spin', 'yield', 'block']) expect(adapter.parseOptions({ wait }, WHERE).wait).toBe(wait);
  });

  it('is idempotent, since open() parses its options again', () => {
    const once = adapter.parseOptions({ capacity: '1MiB', padding: 'off', wait: 'spin', process: 'child', journal: 'fsync', dedup: 'on' }, WHERE);
    expect(adapter.parseOptions(once, WHERE)).toEqual(once);
  });

  it.each([
    [{ capacity: 1000 }, 'ringbuffer.capacity'],
    [{ capacity: 32 }, 'ringbuffer.capacity'],
    [{ capacity: 2 ** 31 }, 'ringbuffer.capacity'],
    [{ capacity: '4 parsecs' }, 'ringbuffer.capacity'],
    [{ capacity: -64 }, 'ringbuffer.capacity'],
    [{ padding: 'maybe' }, 'ringbuffer.padding'],
    [{ wait: 'sleep' }, 'ringbuffer.wait'],
    [{ process: 'fork' }, 'ringbuffer.process'],
    [{ process: 'child', journal: 'always' }, 'ringbuffer.journal'],
    [{ dedup: 'yes' }, 'ringbuffer.dedup'],
    [{ capacty: 1024 }, 'ringbuffer.capacty'],
    ['fast', 'ringbuffer'],
  ])('rejects %j naming %s and the file', (raw, field) => {
    const e = configError(raw);
    expect(e.field).toBe(field);
    expect(e.file).toBe(WHERE);
    expect(e.message).toContain(field);
  });
});
