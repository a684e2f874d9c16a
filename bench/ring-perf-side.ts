/**
 * The ring buffer's worker side as the harness's own workers load it for ring-perf
 * (RunSpec.workerModule): the real producer and consumer, passed through untouched to
 * the harness's loops, plus what only ring-perf wants to see and the harness does not
 * report: how the producer's time splits between the harness's loop and send(), how
 * often each side parked, and a CPU profile of the worker. The figures come back in a
 * SharedArrayBuffer carried next to the ring's own init, so the harness's typed worker
 * messages stay as they are.
 */
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { monoNs } from '../src/core/clock.ts';
import type { AckSink, Cloneable, Consumer, ConsumerSpec, DeliveryBatch, OutboundBatch, Producer, ProducerSpec, WorkerSide } from '../src/core/contract.ts';
import { loadWorkerSide } from '../src/adapters/registry.ts';
import { RingConsumer } from '../src/adapters/ringbuffer/consumer.ts';
import { RingProducer } from '../src/adapters/ringbuffer/producer.ts';
import { readSentNs, readSeq } from '../src/core/envelope.ts';
import { Control } from '../src/harness/control.ts';
import { inside, recorderPair, type WindowPair } from '../src/harness/worker/window.ts';
import type { LatencyRecorder } from '../src/core/histogram.ts';
import { BETWEEN, CONSUMER, HandoverTable, INSIDE, PRODUCER, stallLog, threadProbe, transitRecorders, type StallLog, type TailBuffers, type ThreadProbe } from './ring-perf-probe.ts';

/** Float64 slots of the probe's stats. */
export const STAT_LOOP_NS = 0;
export const STAT_SEND_NS = 1;
/** messages whose hand-over was timed */
export const STAT_TIMED = 2;
/** Atomics.wait calls of wait mode block; -1 where the side is not a ring lane's */
export const STAT_PRODUCER_PARKS = 3;
export const STAT_CONSUMER_PARKS = 4;
/** time each side spent waiting for the other (Waiter.stats.waitedNs); -1 where the side is not a ring lane's */
export const STAT_PRODUCER_WAIT_NS = 5;
export const STAT_CONSUMER_WAIT_NS = 6;
/** the consumer's split: from a receive's return to the next receive (the harness's work on the batch), and inside receive */
export const STAT_CONSUMER_LOOP_NS = 7;
export const STAT_CONSUMER_RECEIVE_NS = 8;
/** messages whose receipt was timed */
export const STAT_CONSUMER_TIMED = 9;
/** the ring's worker side as the engine holds it (erased types) */
const ringSide = await loadWorkerSide('ringbuffer');
const STATS = 10;

export interface ProbeInit {
  ring: Cloneable;
  stats: SharedArrayBuffer;
  /** time the producer's hand-overs and the consumer's receives: two clock reads per batch, so closed loop only */
  split: boolean;
  /** write a CPU profile of each worker here ('' = none); workers do not inherit --cpu-prof */
  profileDir: string;
  /** the tail breakdown's shared figures (open loop only: one clock read per batch on each side) */
  tail?: TailBuffers;
}

export function createStats(): SharedArrayBuffer {
  return new SharedArrayBuffer(STATS * 8);
}

function isRecord(v: Cloneable): v is { [key: string]: Cloneable } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof SharedArrayBuffer);
}

function probeOf(raw: Cloneable): ProbeInit {
  if (!isRecord(raw) || !(raw.stats instanceof SharedArrayBuffer) || typeof raw.split !== 'boolean' || typeof raw.profileDir !== 'string') {
    throw new Error('ring-perf: the worker init is not a ring-perf probe');
  }
  const tail = isRecord(raw.tail ?? null) ? (raw.tail as unknown as TailBuffers) : undefined;
  return { ring: raw.ring, stats: raw.stats, split: raw.split, profileDir: raw.profileDir, ...(tail ? { tail } : {}) };
}

/** Starts profiling this worker; the returned function stops and writes the profile. */
export async function startProfile(dir: string, name: string): Promise<() => Promise<void>> {
  if (!dir) return () => Promise.resolve();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${name}-${threadId}.cpuprofile`), JSON.stringify(profile));
  };
}

/**
 * One side's split of its time: inside the system's call (send, receive), and the gap
 * from one call's return to the next call, the harness's own work on a batch.
 */
class CallSplit {
  private lastNs = 0;
  loopNs = 0;
  callNs = 0;
  timed = 0;

  /** Accounts a call that ran from t1 to t2 and handled `count` messages; `gapAfter`: whether the next gap is the harness's work. */
  add(t1: number, t2: number, count: number, gapAfter: boolean): void {
    if (this.lastNs > 0) this.loopNs += t1 - this.lastNs;
    this.callNs += t2 - t1;
    this.timed += count;
    this.lastNs = gapAfter ? t2 : 0;
  }

  write(stats: Float64Array, loopSlot: number, callSlot: number, timedSlot: number): void {
    stats[loopSlot] = this.loopNs;
    stats[callSlot] = this.callNs;
    stats[timedSlot] = this.timed;
  }
}

/**
 * Times each hand-over and the gap since the previous one returned: that gap is the
 * harness's loop (stamping, accounting, control), the same work for every system.
 */
class SplitProducer implements Producer {
  private readonly split = new CallSplit();
  private started = false;

  constructor(
    private readonly inner: Producer,
    private readonly stats: Float64Array,
    private readonly stopProfile: () => Promise<void>,
  ) {}

  send(batch: OutboundBatch): void | Promise<void> {
    const t1 = monoNs();
    const pending = this.inner.send(batch);
    const t2 = monoNs();
    // the first batch has no gap before it, and is not counted: the loop was still starting
    if (this.started) this.split.add(t1, t2, batch.count, true);
    else this.split.add(t2, t2, 0, true);
    this.started = true;
    return pending;
  }

  flush(timeoutMs: number): Promise<void> {
    return this.inner.flush(timeoutMs);
  }

  async close(): Promise<void> {
    this.split.write(this.stats, STAT_LOOP_NS, STAT_SEND_NS, STAT_TIMED);
    return closeProbed(this.inner, this.stats, STAT_PRODUCER_PARKS, this.stopProfile);
  }
}

async function closeProbed(side: Producer | Consumer, stats: Float64Array, slot: number, stopProfile: () => Promise<void>): Promise<void> {
  const ring = side instanceof RingProducer || side instanceof RingConsumer ? side.waiter.stats : undefined;
  stats[slot] = ring ? ring.parks : -1;
  stats[slot === STAT_PRODUCER_PARKS ? STAT_PRODUCER_WAIT_NS : STAT_CONSUMER_WAIT_NS] = ring ? ring.waitedNs : -1;
  await stopProfile();
  await side.close();
}

/**
 * Times each receive and the gap since the previous one returned: that gap is the
 * harness's work on a batch (decode, ledger, histograms, ack), the consumer's share of
 * what the producer's split calls the harness loop. An empty receive is all waiting, and
 * the gap after it is not the harness's work on a batch.
 */
class SplitConsumer implements Consumer {
  private readonly split = new CallSplit();

  constructor(
    private readonly inner: Consumer,
    private readonly stats: Float64Array,
    private readonly stopProfile: () => Promise<void>,
  ) {}

  receive(max: number, maxWaitMs: number): DeliveryBatch {
    const t1 = monoNs();
    const b = this.inner.receive(max, maxWaitMs);
    if (b instanceof Promise) throw new Error('ring-perf: the ring receives synchronously');
    this.split.add(t1, monoNs(), b.count, b.count > 0);
    return b;
  }

  ack(b: DeliveryBatch): void | Promise<void> {
    return this.inner.ack(b);
  }

  close(): Promise<void> {
    this.split.write(this.stats, STAT_CONSUMER_LOOP_NS, STAT_CONSUMER_RECEIVE_NS, STAT_CONSUMER_TIMED);
    return closeProbed(this.inner, this.stats, STAT_CONSUMER_PARKS, this.stopProfile);
  }
}

/** The harness hands its Control to the worker side; the probe reads the window from it. */
function timelineOf(control: unknown): Control {
  if (!(control instanceof Control)) throw new Error('ring-perf: the tail probe needs the harness Control');
  return control;
}

/** Records when each message was handed over, and this thread's GC and scheduling over the window. */
class TailProducer implements Producer {
  private readonly table: HandoverTable;
  private readonly thread: ThreadProbe;
  private readonly stalls: StallLog;
  /** when the previous send returned; a Float64Array, for the reason ThreadProbe's state is one */
  private readonly last = new Float64Array(1);

  constructor(
    private readonly inner: Producer,
    private readonly stats: Float64Array,
    private readonly stopProfile: () => Promise<void>,
    tail: TailBuffers,
    private readonly control: Control,
  ) {
    this.table = new HandoverTable(tail);
    this.thread = threadProbe(tail, PRODUCER);
    this.stalls = stallLog(tail, PRODUCER);
  }

  send(batch: OutboundBatch): void | Promise<void> {
    const now = monoNs();
    this.table.set(batch.firstSeq, batch.count, now);
    const { measureStartNs, measureEndNs } = this.control.timeline();
    this.thread.tick(now, measureStartNs, measureEndNs);
    this.stalls.note(this.last[0]!, now, BETWEEN, measureStartNs, measureEndNs);
    const r = this.inner.send(batch);
    if (r instanceof Promise) throw new Error('ring-perf: the ring sends synchronously');
    this.last[0] = monoNs();
    this.stalls.note(now, this.last[0], INSIDE, measureStartNs, measureEndNs);
  }

  flush(timeoutMs: number): Promise<void> {
    return this.inner.flush(timeoutMs);
  }

  close(): Promise<void> {
    this.thread.stop();
    return closeProbed(this.inner, this.stats, STAT_PRODUCER_PARKS, this.stopProfile);
  }
}

/** Times each message from its hand-over to its receipt, apart for receives that parked. */
class TailConsumer implements Consumer {
  private readonly table: HandoverTable;
  private readonly thread: ThreadProbe;
  private readonly stalls: StallLog;
  /** when the previous receive returned */
  private readonly last = new Float64Array(1);
  /** [outside the window (thrown away), the shared recorder] */
  private readonly transit: WindowPair<LatencyRecorder>;
  private readonly wakeup: WindowPair<LatencyRecorder>;

  constructor(
    private readonly inner: Consumer,
    private readonly stats: Float64Array,
    private readonly stopProfile: () => Promise<void>,
    tail: TailBuffers,
    private readonly control: Control,
  ) {
    this.table = new HandoverTable(tail);
    this.thread = threadProbe(tail, CONSUMER);
    this.stalls = stallLog(tail, CONSUMER);
    const rec = transitRecorders(tail);
    this.transit = recorderPair(rec.transit);
    this.wakeup = recorderPair(rec.wakeup);
  }

  receive(max: number, maxWaitMs: number): DeliveryBatch | Promise<DeliveryBatch> {
    const waiter = this.inner instanceof RingConsumer ? this.inner.waiter.stats : undefined;
    const parks = waiter?.parks ?? 0;
    const before = monoNs();
    const b = this.inner.receive(max, maxWaitMs);
    if (b instanceof Promise) throw new Error('ring-perf: the ring receives synchronously');
    const now = monoNs();
    const { measureStartNs, measureEndNs } = this.control.timeline();
    this.thread.tick(now, measureStartNs, measureEndNs);
    this.stalls.note(this.last[0]!, before, BETWEEN, measureStartNs, measureEndNs);
    this.stalls.note(before, now, INSIDE, measureStartNs, measureEndNs);
    this.last[0] = now;
    const parked = (waiter?.parks ?? 0) !== parks ? 1 : 0;
    // the same records before and inside the window, to thrown-away recorders outside it (window.ts)
    for (let i = 0; i < b.count; i++) {
      const buf = b.buffer(i);
      const off = b.offset(i);
      const handover = this.table.get(readSeq(buf, off));
      const side = inside(readSentNs(buf, off), measureStartNs, measureEndNs) * (handover >= 0 ? 1 : 0);
      this.transit[side]!.record(now - handover);
      this.wakeup[side * parked]!.record(now - handover);
    }
    return b;
  }

  ack(b: DeliveryBatch): void | Promise<void> {
    return this.inner.ack(b);
  }

  close(): Promise<void> {
    this.thread.stop();
    return closeProbed(this.inner, this.stats, STAT_CONSUMER_PARKS, this.stopProfile);
  }
}

export const workerSide: WorkerSide = {
  async createProducer(raw: Cloneable, spec: ProducerSpec, acks: AckSink): Promise<Producer> {
    const probe = probeOf(raw);
    const stats = new Float64Array(probe.stats);
    const stopProfile = await startProfile(probe.profileDir, 'producer');
    const inner = await ringSide.createProducer(probe.ring, spec, acks);
    if (probe.split) return new SplitProducer(inner, stats, stopProfile);
    if (probe.tail) return new TailProducer(inner, stats, stopProfile, probe.tail, timelineOf(spec.control));
    return {
      send: (b: OutboundBatch) => inner.send(b),
      flush: (ms: number) => inner.flush(ms),
      close: () => closeProbed(inner, stats, STAT_PRODUCER_PARKS, stopProfile),
    };
  },

  async createConsumer(raw: Cloneable, spec: ConsumerSpec): Promise<Consumer> {
    const probe = probeOf(raw);
    const stats = new Float64Array(probe.stats);
    const stopProfile = await startProfile(probe.profileDir, 'consumer');
    const inner = await ringSide.createConsumer(probe.ring, spec);
    if (probe.split) return new SplitConsumer(inner, stats, stopProfile);
    if (probe.tail) return new TailConsumer(inner, stats, stopProfile, probe.tail, timelineOf(spec.control));
    return {
      receive: (max: number, maxWaitMs: number) => inner.receive(max, maxWaitMs),
      ack: (b: DeliveryBatch) => inner.ack(b),
      close: () => closeProbed(inner, stats, STAT_CONSUMER_PARKS, stopProfile),
    };
  },
};
