/**
 * The `ringbuffer:` section of a scenario. Every field is optional; defaults are chosen
 * for throughput on a small machine without letting an idle thread burn a core.
 */
import { refusePowerLoss } from '../../brokers/common/power-loss.ts';
import { refuseFaultTarget } from '../../core/fault-target.ts';
import type { RunShape } from '../../core/contract.ts';
import { ConfigError } from '../../core/errors.ts';
import { refuseTopicShape } from '../../core/topics.ts';
import { SectionReader, sectionOf } from '../../core/options.ts';
import { frameBytes, MAX_CAPACITY, MIN_CAPACITY } from './layout.ts';
import { WAIT_MODES, type WaitMode } from './waiting.ts';

export type Padding = 'on' | 'off';
/** inline: lanes in shared memory between worker threads; child: a ring server process owns them */
export type ProcessMode = 'inline' | 'child';
/** fsync: a per-lane append-only journal, fsync'd before the producer's ack (child only) */
export type JournalMode = 'none' | 'fsync';
export type Dedup = 'on' | 'off';
/** which replica a kill -9 fault hits (replicas: 2): the one serving clients, or the other */
export type KillReplica = 'primary' | 'secondary';

export type RingOptions = {
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
  /** ring server processes (child only): 2 = a primary and a secondary, each with its own journal; absent = 1 */
  replicas?: 2;
  /** absent = primary */
  killReplica?: KillReplica;
};

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

const KEYS = ['capacity', 'padding', 'wait', 'process', 'journal', 'dedup', 'replicas', 'killReplica'] as const;
const CAPACITY = {
  min: MIN_CAPACITY,
  max: MAX_CAPACITY,
  powerOfTwo: true,
  expected: `a power of two from ${MIN_CAPACITY} bytes to 1 GiB (bytes, or e.g. "64KiB", "4MiB")`,
};

export function parseRingOptions(raw: unknown, where: string): RingOptions {
  const section = sectionOf(raw, where, 'ringbuffer', KEYS, 'ring buffer options');
  if (!section) return { ...DEFAULT_OPTIONS };
  const f = new SectionReader(where, 'ringbuffer', section);
  const d = DEFAULT_OPTIONS;
  const out: RingOptions = {
    capacity: f.size('capacity', CAPACITY, d.capacity),
    padding: f.onOffWord('padding', d.padding),
    wait: f.oneOf('wait', WAIT_MODES, d.wait),
    process: f.oneOf('process', ['inline', 'child'], d.process),
    journal: f.oneOf('journal', ['none', 'fsync'], d.journal),
    dedup: f.onOffWord('dedup', d.dedup),
  };
  // Present only when set, so that a one-server ring's options read as they always did.
  if (f.integer('replicas', { min: 1, max: 2 }, 1) === 2) out.replicas = 2;
  if (section.killReplica !== undefined) out.killReplica = f.oneOf<KillReplica>('killReplica', ['primary', 'secondary'], 'primary');
  if (out.journal === 'fsync' && out.process !== 'child') {
    // The journal is written by the process that owns the lanes; inline, that is every
    // producer thread, and a kill -9 would take the whole harness with it anyway.
    f.refuse('journal', '"none" unless ringbuffer.process is "child" (the journal belongs to the ring server process)');
  }
  return out;
}

/** Refusals that need no ring: the harness asks before anything starts (exit 2), open() again. */
export function checkRun(o: RingOptions, run: RunShape, where: string): void {
  if (run.fault?.type === 'power-loss' && o.process !== 'child') {
    throw new ConfigError(where, 'ringbuffer.process', '"child" with fault.type power-loss (inline, the lanes live in busbench\'s own memory: there is no process or disk to cut)', o.process);
  }
  if (o.replicas === 2 && o.process !== 'child') {
    throw new ConfigError(where, 'ringbuffer.replicas', '1 unless ringbuffer.process is "child" (replicas are ring server processes; inline, the lanes live in busbench\'s own memory)', o.replicas);
  }
  if (o.killReplica === 'secondary' && o.replicas !== 2) {
    throw new ConfigError(where, 'ringbuffer.killReplica', '"primary" unless ringbuffer.replicas is 2 (one ring server has no secondary)', o.killReplica);
  }
  refusePowerLoss(run, where);
  refuseFaultTarget(run, where, [], 'the ring server is one process');
  if (!Number.isInteger(run.stages) || run.stages < 1) throw new ConfigError(where, 'stages', 'a whole number of pipeline stages, at least 1', run.stages);
  // A stage's forwarder would have to route as the producers did; nothing checks that yet.
  if (run.stages > 1 && run.keys && run.keys.distribution !== 'none') throw new ConfigError(where, 'keys', 'none with pipeline stages on ringbuffer', run.keys.distribution);
  if (run.stages > 1 && (run.partitions ?? 1) > 1) throw new ConfigError(where, 'partitions', '1 with pipeline stages on ringbuffer', run.partitions);
  refuseTopicShape(run, where, 'ringbuffer');
  // An inline lane holds each message with its frame header; the ring server's lanes count payload bytes.
  const needs = o.process === 'child' ? run.messageSize : frameBytes(run.messageSize);
  if (needs > o.capacity) {
    throw new ConfigError(where, 'messageSize', `a message that fits in a lane of ${o.capacity} bytes (a ${run.messageSize}-byte message does not fit: raise ringbuffer.capacity)`, run.messageSize);
  }
  if (run.backlog) {
    // A paused consumer leaves every message in its producer's lane; a full lane blocks its
    // producer, so a backlog larger than the lanes could never be built.
    const perLane = Math.ceil(run.backlog.messages / run.producers) * needs;
    if (perLane > o.capacity) {
      throw new ConfigError(where, 'backlog', `a backlog the ring's lanes hold: ${run.backlog.messages} messages over ${run.producers} lane(s) need ${perLane} bytes per lane, ringbuffer.capacity is ${o.capacity} (raise it, up to ${MAX_CAPACITY})`, run.backlog.messages);
    }
  }
}
