/**
 * The `ringbuffer:` section of a scenario. Every field is optional; defaults are chosen
 * for throughput on a small machine without letting an idle thread burn a core.
 */
import { ConfigError } from '../../core/errors.ts';
import { MAX_CAPACITY, MIN_CAPACITY } from './layout.ts';
import { WAIT_MODES, type WaitMode } from './waiting.ts';

export type Padding = 'on' | 'off';

export interface RingOptions {
  /** bytes of data per lane (one lane per producer), a power of two */
  capacity: number;
  /** 'on': head and tail on separate 64-byte cache lines; 'off': on one (false sharing) */
  padding: Padding;
  /** how a side with nothing to do waits: see waiting.ts */
  wait: WaitMode;
}

export const DEFAULT_OPTIONS: RingOptions = {
  capacity: 4 * 1024 * 1024,
  padding: 'on',
  // 'block' spins 200 µs before parking, so under load it never sleeps (spin-level
  // throughput and latency) but an idle side releases its core: see waiting.ts.
  wait: 'block',
};

const KEYS = ['capacity', 'padding', 'wait'] as const;
const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1 << 20, mb: 1 << 20, mib: 1 << 20, g: 1 << 30, gb: 1 << 30, gib: 1 << 30 };
const CAPACITY_EXPECTED = `a power of two from ${MIN_CAPACITY} bytes to 1 GiB (bytes, or e.g. "64KiB", "4MiB")`;

function parseCapacity(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(v);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  return m && unit !== undefined ? Number(m[1]) * unit : undefined;
}

const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

export function parseRingOptions(raw: unknown, where: string): RingOptions {
  if (raw === undefined || raw === null) return { ...DEFAULT_OPTIONS };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(where, 'ringbuffer', 'a mapping of ring buffer options', raw);
  const section = raw as Record<string, unknown>;
  for (const key of Object.keys(section)) {
    if (!(KEYS as readonly string[]).includes(key)) throw new ConfigError(where, `ringbuffer.${key}`, `one of the fields ${KEYS.join(', ')}`, key);
  }
  const out: RingOptions = { ...DEFAULT_OPTIONS };

  if (section.capacity !== undefined) {
    const c = parseCapacity(section.capacity);
    if (c === undefined || !isPowerOfTwo(c) || c < MIN_CAPACITY || c > MAX_CAPACITY) {
      throw new ConfigError(where, 'ringbuffer.capacity', CAPACITY_EXPECTED, section.capacity);
    }
    out.capacity = c;
  }

  // YAML 1.1 readers turn on/off into booleans; accept them so either YAML flavour works.
  const padding = section.padding === true ? 'on' : section.padding === false ? 'off' : section.padding;
  if (padding !== undefined) {
    if (padding !== 'on' && padding !== 'off') throw new ConfigError(where, 'ringbuffer.padding', '"on" or "off"', section.padding);
    out.padding = padding;
  }

  const wait = section.wait;
  if (wait !== undefined) {
    if (typeof wait !== 'string' || !(WAIT_MODES as readonly string[]).includes(wait)) {
      throw new ConfigError(where, 'ringbuffer.wait', `one of ${WAIT_MODES.join(', ')}`, wait);
    }
    out.wait = wait as WaitMode;
  }
  return out;
}
