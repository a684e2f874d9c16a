/**
 * The `ringbuffer:` section of a scenario. Every field is optional; defaults are chosen
 * for throughput on a small machine without letting an idle thread burn a core.
 */
import { ConfigError } from '../../core/errors.ts';
import { MAX_CAPACITY, MIN_CAPACITY } from './layout.ts';
import { WAIT_MODES, type WaitMode } from './waiting.ts';

export type Padding = 'on' | 'off';
/** inline: lanes in shared memory between worker threads; child: a ring server process owns them */
export type ProcessMode = 'inline' | 'child';
/** fsync: a per-lane append-only journal, fsync'd before the producer's ack (child only) */
export type JournalMode = 'none' | 'fsync';
export type Dedup = 'on' | 'off';

export interface RingOptions {
  /** bytes of data per lane (one lane per producer and stage), a power of two */
  capacity: number;
  /** 'on': head and tail on separate 64-byte cache lines; 'off': on one (false sharing). Inline only. */
  padding: Padding;
  /** how a side with nothing to do waits: see waiting.ts. Inline only. */
  wait: WaitMode;
  process: ProcessMode;
  journal: JournalMode;
  /** 'on': a lane drops a (producer, sequence) at or below the last one it appended for that producer */
  dedup: Dedup;
}

export const DEFAULT_OPTIONS: RingOptions = {
  capacity: 4 * 1024 * 1024,
  padding: 'on',
  // 'block' spins 200 µs before parking, so under load it never sleeps (spin-level
  // throughput and latency) but an idle side releases its core: see waiting.ts.
  wait: 'block',
  process: 'inline',
  journal: 'none',
  dedup: 'off',
};

const KEYS = ['capacity', 'padding', 'wait', 'process', 'journal', 'dedup'] as const;
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

/** A field that must be one of `allowed`; YAML 1.1 readers turn on/off into booleans, so those map back. */
function oneOf<T extends string>(section: Record<string, unknown>, key: string, allowed: readonly T[], where: string): T | undefined {
  const raw = section[key];
  const v = raw === true && allowed.includes('on' as T) ? 'on' : raw === false && allowed.includes('off' as T) ? 'off' : raw;
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(where, `ringbuffer.${key}`, allowed.length === 2 ? `"${allowed[0]}" or "${allowed[1]}"` : `one of ${allowed.join(', ')}`, raw);
  }
  return v as T;
}

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
  out.padding = oneOf(section, 'padding', ['on', 'off'], where) ?? out.padding;
  out.wait = oneOf(section, 'wait', WAIT_MODES, where) ?? out.wait;
  out.process = oneOf(section, 'process', ['inline', 'child'], where) ?? out.process;
  out.journal = oneOf(section, 'journal', ['none', 'fsync'], where) ?? out.journal;
  out.dedup = oneOf(section, 'dedup', ['on', 'off'], where) ?? out.dedup;

  if (out.journal === 'fsync' && out.process !== 'child') {
    // The journal is written by the process that owns the lanes; inline, that is every
    // producer thread, and a kill -9 would take the whole harness with it anyway.
    throw new ConfigError(where, 'ringbuffer.journal', '"none" unless ringbuffer.process is "child" (the journal belongs to the ring server process)', section.journal);
  }
  return out;
}
