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
  it('fills in defaults', () => {
    expect(adapter.parseOptions(undefined, WHERE)).toEqual({ capacity: 4 * 1024 * 1024, padding: 'on', wait: 'block' });
    expect(adapter.parseOptions({}, WHERE)).toEqual({ capacity: 4 * 1024 * 1024, padding: 'on', wait: 'block' });
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
    const once = adapter.parseOptions({ capacity: '1MiB', padding: 'off', wait: 'spin' }, WHERE);
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
    [{ capacty: 1024 }, 'ringbuffer.capacty'],
    ['fast', 'ringbuffer'],
  ])('rejects %j naming %s and the file', (raw, field) => {
    const e = configError(raw);
    expect(e.field).toBe(field);
    expect(e.file).toBe(WHERE);
    expect(e.message).toContain(field);
  });
});
