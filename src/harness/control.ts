/**
 * Shared memory between the runner (main thread) and its workers. Workers poll it on
 * the hot path instead of waiting for messages, so control costs one Atomics.load.
 *
 * The run's timeline is fixed before the start and written here once: every thread
 * reads the same monotonic clock, so all of them agree on when warm-up ends and the
 * measured window closes without any message passing. Its words are integer ns in a
 * BigInt64Array, written and read with Atomics: workers poll them while the runner
 * writes, and a plain store gives no guarantee a reader ever sees it, or sees the
 * words in order. startNs is stored last and read first, so a reader that sees it
 * set sees the rest of the timeline.
 *
 * The hot loops read the timeline every iteration (the producer at 1 M msg/s about once
 * per message), and a BigInt64Array load allocates a BigInt: decoding the words each
 * time cost ~115 ns and filled the young generation (its scavenges paused the producer).
 * So every write of a time word also bumps a generation word (state[1]), and a reader
 * decodes the words only when the generation moved: one Int32 load otherwise. The bump
 * follows the write, and the reader loads the generation before the words, so a reader
 * that sees a generation sees the writes before it.
 */
import type { RunControl } from '../core/contract.ts';

export const STATE_RUNNING = 0;
/** producers have stopped; consumers keep receiving until told to stop */
export const STATE_DRAINING = 1;
export const STATE_STOP = 2;

/** per worker slot: progress counters (read by the main thread for the progress line) */
export const COUNTER_SENT = 0;
export const COUNTER_RECEIVED_UNIQUE = 1;
export const COUNTER_DELIVERIES = 2;
/** when the first message sent after an injected fault was acked (producers) or delivered (consumers); 0 = not yet */
export const COUNTER_RECOVERED_NS = 3;
const COUNTERS_PER_SLOT = 4;

export interface ControlBuffers {
  state: SharedArrayBuffer;
  timeline: SharedArrayBuffer;
  counters: SharedArrayBuffer;
}

export interface Timeline {
  /** when producers start (ns, monoNs clock) */
  startNs: number;
  /** warm-up ends and the measured window opens */
  measureStartNs: number;
  /** the measured window closes; producers stop */
  measureEndNs: number;
}

/**
 * Interval boundaries: every worker cuts intervals at the same instants, measureStartNs +
 * k × intervalNs for whole k, so no interval holds both warm-up and measured traffic. When
 * the warm-up is not a whole number of intervals, interval 0 (warm-up) is the shorter one.
 */
export class IntervalGrid {
  /** end of interval 0 */
  readonly firstEndNs: number;

  constructor(
    readonly startNs: number,
    measureStartNs: number,
    readonly intervalNs: number,
  ) {
    const offset = (measureStartNs - startNs) % intervalNs;
    this.firstEndNs = startNs + (offset > 0 ? offset : intervalNs);
  }

  endNs(index: number): number {
    return this.firstEndNs + index * this.intervalNs;
  }

  startOf(index: number): number {
    return index === 0 ? this.startNs : this.endNs(index - 1);
  }
}

const TIME_WORDS = 7;
/** Int32 index in the state buffer of the time words' generation */
const GENERATION = 1;

export class Control implements RunControl {
  private readonly state: Int32Array;
  private readonly times: BigInt64Array;
  private readonly counters: Float64Array;
  /** the time words as numbers, decoded at generation `seenGeneration` (-1: never) */
  private readonly decoded = new Float64Array(TIME_WORDS);
  private seenGeneration = -1;
  private cachedTimeline: Timeline = { startNs: 0, measureStartNs: 0, measureEndNs: 0 };

  constructor(readonly buffers: ControlBuffers) {
    this.state = new Int32Array(buffers.state);
    this.times = new BigInt64Array(buffers.timeline);
    this.counters = new Float64Array(buffers.counters);
  }

  static create(slots: number): Control {
    return new Control({
      state: new SharedArrayBuffer(8),
      timeline: new SharedArrayBuffer(TIME_WORDS * 8),
      counters: new SharedArrayBuffer(slots * COUNTERS_PER_SLOT * 8),
    });
  }

  get runState(): number {
    return Atomics.load(this.state, 0);
  }

  setState(s: number): void {
    Atomics.store(this.state, 0, s);
    Atomics.notify(this.state, 0);
  }

  stopping(): boolean {
    return Atomics.load(this.state, 0) === STATE_STOP;
  }

  setTimeline(t: Timeline): void {
    Atomics.store(this.times, 1, BigInt(Math.round(t.measureStartNs)));
    Atomics.store(this.times, 2, BigInt(Math.round(t.measureEndNs)));
    Atomics.store(this.times, 0, BigInt(Math.round(t.startNs)));
    this.bump();
  }

  /** A snapshot, the same object until a time word changes: reading it allocates nothing. */
  timeline(): Timeline {
    this.refresh();
    return this.cachedTimeline;
  }

  /** When a fault was injected (monoNs), or 0: workers time recovery from it. */
  faultNs(): number {
    return this.time(3);
  }

  markFault(nowNs: number): void {
    Atomics.store(this.times, 3, BigInt(Math.round(nowNs)));
    this.bump();
  }

  /**
   * Pulls the end of the measured window forward (e.g. on Ctrl-C or a failed worker),
   * never back: a compare-and-swap, so of two racing pulls the earlier end wins.
   */
  endMeasurementNow(nowNs: number): void {
    const now = BigInt(Math.round(nowNs));
    for (;;) {
      const end = Atomics.load(this.times, 2);
      if (end <= now) return;
      if (Atomics.compareExchange(this.times, 2, end, now) === end) {
        this.bump();
        return;
      }
    }
  }

  /**
   * A backlog build: consumers stop receiving from `fromNs` (the measured window's start)
   * until resumeConsumers. Set before the timeline, so a consumer never misses it.
   */
  pauseConsumersFrom(fromNs: number): void {
    Atomics.store(this.times, 4, BigInt(Math.round(fromNs)));
    this.bump();
  }

  /** the run pauses its consumers for a backlog build at some point */
  backlogPlanned(): boolean {
    return this.time(4) > 0;
  }

  resumeConsumers(nowNs: number): void {
    Atomics.store(this.times, 5, BigInt(Math.round(nowNs)));
    this.bump();
  }

  /** When the consumers resumed after a backlog build, or 0 (not yet, or no build). */
  resumedNs(): number {
    return this.time(5);
  }

  /** Consumers must not receive now: a backlog build has begun and they have not resumed. */
  consumersPaused(nowNs: number): boolean {
    const from = this.time(4);
    return from > 0 && nowNs >= from && this.time(5) === 0;
  }

  /**
   * Ends the measured window at `nowNs` as the run planned it (a backlog drain that ended),
   * not as an abort: producers then send everything intended before the new end, and
   * nothing is counted unsent.
   */
  closeWindowAsPlanned(nowNs: number): void {
    Atomics.store(this.times, 6, 1n);
    this.bump();
    this.endMeasurementNow(nowNs);
  }

  /** the window's end was moved by closeWindowAsPlanned */
  windowClosedAsPlanned(): boolean {
    return this.time(6) === 1;
  }

  private time(i: number): number {
    this.refresh();
    return this.decoded[i]!;
  }

  private bump(): void {
    Atomics.add(this.state, GENERATION, 1);
  }

  /** Decodes the time words if a write happened since the last decode. */
  private refresh(): void {
    const generation = Atomics.load(this.state, GENERATION);
    if (generation === this.seenGeneration) return;
    this.seenGeneration = generation;
    for (let i = 0; i < TIME_WORDS; i++) this.decoded[i] = Number(Atomics.load(this.times, i));
    const d = this.decoded;
    this.cachedTimeline = { startNs: d[0]!, measureStartNs: d[1]!, measureEndNs: d[2]! };
  }

  setCounter(slot: number, which: number, value: number): void {
    this.counters[slot * COUNTERS_PER_SLOT + which] = value;
  }

  counter(slot: number, which: number): number {
    return this.counters[slot * COUNTERS_PER_SLOT + which]!;
  }

  /** Sleeps until the state changes from `from` or `ms` pass; for threads with nothing to do. */
  waitWhile(from: number, ms: number): void {
    Atomics.wait(this.state, 0, from, ms);
  }
}
