/**
 * The load generator of one producer, run in its own worker thread.
 *
 * Closed loop (rate 0): send batches as fast as the system takes them; the system's
 * producer bounds the in-flight window. The send time of a batch is read once per batch
 * (a clock read costs ~60-100 ns here, about as much as moving a 512-byte message).
 *
 * Open loop (fixed rate): each message has an *intended* send time on the run's schedule
 * (schedule.ts: producers phase-shifted so that together they send evenly), and that
 * intended time is what the message carries. When the producer falls behind (a stall,
 * a full window) it catches up with messages stamped with their intended times, so the
 * stall shows in every later message's latency instead of vanishing (coordinated
 * omission), and it sends the whole schedule even past the window's end: the messages
 * a stall delays most are the ones that must not go missing. How late each message
 * was handed over is the send delay.
 */
import { monoNs } from '../../core/clock.ts';
import { spinPause } from '../../core/spin.ts';
import type { OutboundBatch, Producer } from '../../core/contract.ts';
import { encodeTemplate, stampAt, stampBatch } from '../../core/envelope.ts';
import { buildPool, readPayloadFile, type PayloadPool } from '../../core/payload.ts';
import { LatencyRecorder } from '../../core/histogram.ts';
import { RateProfile } from '../../core/rate-profile.ts';
import { ProducerLedger } from '../../checks/ledger.ts';
import { COUNTER_RECOVERED_NS, COUNTER_SENT, IntervalGrid, type Control } from '../control.ts';
import type { LoadSettings } from '../protocol.ts';
import { Schedule } from '../schedule.ts';
import { endRuns, inside, recorderPair, runsPair, type Runs, type WindowPair } from './window.ts';

/** Send times of recent sequences, to time acks; sized far beyond any in-flight window. */
export class SendTimes {
  private readonly times: Float64Array;
  private readonly seqs: Float64Array;
  private readonly mask: number;

  constructor(window: number) {
    let size = 1 << 16;
    while (size < window * 4) size *= 2;
    this.times = new Float64Array(size);
    this.seqs = new Float64Array(size).fill(-1);
    this.mask = size - 1;
  }

  set(seq: number, ns: number): void {
    const i = seq & this.mask;
    this.times[i] = ns;
    this.seqs[i] = seq;
  }

  /** the send time of `seq`, or -1 when it was overwritten (ack far too late to time) */
  get(seq: number): number {
    const i = seq & this.mask;
    return this.seqs[i] === seq ? this.times[i]! : -1;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface ProducerOutcome {
  ledger: ProducerLedger;
  publish: LatencyRecorder;
  publishMissed: number;
  /** hand-over minus intended time, messages intended inside the window (fixed rate only) */
  sendDelay: LatencyRecorder;
  /** messages of this producer's schedule (warm-up + window); 0 in closed loop */
  intended: number;
  /** handed over inside the measured window */
  sentInWindow: number;
}

/** Per interval of hand-over time: messages sent and their send delay. */
export type SendIntervalSink = (index: number, sent: number, sendDelay: LatencyRecorder) => void;

/**
 * Send delay and sent counts. The hand-over time is read once per batch, just before
 * send(): every message of the batch was handed over at that instant.
 */
export class SendAccount {
  readonly sendDelay = new LatencyRecorder();
  /** the send delay of messages intended outside the window goes to [0] (window.ts says why) */
  private readonly delays: WindowPair<LatencyRecorder> = recorderPair(this.sendDelay);
  private readonly interval = new LatencyRecorder();
  private intervalSent = 0;
  private intervalIndex = 0;
  private intervalEndNs: number;
  private readonly grid: IntervalGrid;
  sentInWindow = 0;

  constructor(
    private readonly startNs: number,
    private readonly measureStartNs: number,
    private readonly measureEndNs: number,
    private readonly intervalNs: number,
    private readonly onInterval: SendIntervalSink,
  ) {
    this.grid = new IntervalGrid(startNs, measureStartNs, intervalNs);
    this.intervalEndNs = this.grid.firstEndNs;
  }

  handedOver(nowNs: number, n: number, intended: Float64Array | null): void {
    while (nowNs >= this.intervalEndNs) this.flush();
    this.intervalSent += n;
    this.sentInWindow += inside(nowNs, this.measureStartNs, this.measureEndNs) * n;
    if (!intended) return;
    for (let i = 0; i < n; i++) {
      const t = intended[i]!;
      this.interval.record(nowNs - t);
      this.delays[inside(t, this.measureStartNs, this.measureEndNs)]!.record(nowNs - t);
    }
  }

  flush(): void {
    this.onInterval(this.intervalIndex, this.intervalSent, this.interval);
    this.interval.reset();
    this.intervalSent = 0;
    this.intervalIndex++;
    this.intervalEndNs = this.grid.endNs(this.intervalIndex);
  }
}

/**
 * Waits until this producer's next message is due, without busy-waiting where it can:
 * the broker under test needs the CPU more than we need a punctual wake-up. An
 * asynchronous system sleeps in setTimeout (1 ms resolution; its I/O must go on
 * meanwhile). A synchronous one sleeps in setTimeout while the gap is long, then in
 * waitUntilDue. Waking late costs no accuracy: whatever came due meanwhile goes out in
 * one batch, each message stamped with its own intended time, so the delay shows in
 * the send-delay histogram.
 */
async function awaitDue(control: Control, dueNs: number, async: boolean): Promise<void> {
  const gapNs = dueNs - monoNs();
  if (async) await sleep(gapNs > SLEEP_ABOVE_NS ? Math.ceil(gapNs / 1e6) : 1);
  // a synchronous system wakes from a long sleep ~1 ms early and waits out the rest precisely
  else if (gapNs > SLEEP_ABOVE_NS) await sleep(Math.floor(gapNs / 1e6) - 1);
  else waitUntilDue(control, dueNs);
}

/** Gaps longer than this are slept in setTimeout (1 ms resolution); shorter ones waited out in waitUntilDue. */
const SLEEP_ABOVE_NS = 2e6;

/**
 * How much earlier than due a synchronous producer wakes from Atomics.wait, to spin the
 * rest. A timed Atomics.wait returns ~50-100 µs after its timeout here (the kernel's
 * timer slack plus the wake-up), so sleeping the whole gap made every message after a
 * wait that much late: at 1 M msg/s the gap is 1 µs and each "wait" slept ~60 µs.
 */
export const WAKE_EARLY_NS = 100_000;
const SPIN_PAUSES = 64;

/**
 * Blocks until the clock reaches `dueNs` (or the run stops): Atomics.wait on the run
 * state (which a stop ends) until WAKE_EARLY_NS before, then a spin.
 */
export function waitUntilDue(control: Control, dueNs: number): void {
  const sleepNs = dueNs - monoNs() - WAKE_EARLY_NS;
  if (sleepNs > 0) control.waitWhile(control.runState, sleepNs / 1e6);
  // A clock read costs ~60-100 ns: read it every SPIN_PAUSES pauses (a few µs).
  while (monoNs() < dueNs && !control.stopping()) for (let i = 0; i < SPIN_PAUSES; i++) spinPause();
}

export async function runProducer(
  producerId: number,
  slot: number,
  control: Control,
  load: LoadSettings,
  createProducer: (acks: ProducerLedger) => Promise<Producer>,
  onReady: () => void,
  onInterval: SendIntervalSink = () => undefined,
): Promise<ProducerOutcome> {
  const ledger = new ProducerLedger(producerId);
  const producer = await createProducer(ledger);
  // built before ready: 8 MiB of bodies takes a while, and the schedule starts at the timeline
  const pool = load.payload ? buildPool(load.payload, producerId, load.batchSize, load.payload.file ? readPayloadFile(load.payload.file) : []) : undefined;
  const sendTimes = new SendTimes(Math.max(load.maxInFlight, load.batchSize));
  const publish = new LatencyRecorder();
  const timing: AckTiming = { windowStart: 0, windowEnd: 0, publishMissed: 0, publish: runsPair(publish) };
  ledger.onAck = (seq, count) => timeAcks(control, slot, sendTimes, timing, seq, count);

  onReady();
  // Wait for the runner to publish the timeline.
  while (control.timeline().startNs === 0 && !control.stopping()) control.waitWhile(0, 5);
  const { startNs, measureStartNs, measureEndNs } = control.timeline();
  timing.windowStart = measureStartNs;
  timing.windowEnd = measureEndNs;
  const account = new SendAccount(startNs, measureStartNs, measureEndNs, load.intervalMs * 1e6, onInterval);
  const profile = load.ratePerSec > 0 ? new RateProfile(load.ratePerSec * load.producers, measureStartNs - startNs, load.rateSegments) : undefined;
  const schedule = profile ? new Schedule(startNs, profile, load.producers, producerId) : undefined;
  const loop = new SendLoop(producer, ledger, control, load, sendTimes, account, schedule, schedule ? schedule.countBefore(measureEndNs) : 0, pool);
  await loop.run(slot);
  account.flush();
  await producer.flush(load.drainTimeoutMs);
  await producer.close();
  return { ledger, publish, publishMissed: timing.publishMissed, sendDelay: account.sendDelay, intended: loop.intendedTotal, sentInWindow: account.sentInWindow };
}

export interface AckTiming {
  windowStart: number;
  windowEnd: number;
  publishMissed: number;
  /** [acks of messages sent outside the window (thrown away), the publish histogram's], in runs */
  publish: WindowPair<Runs>;
}

export function timeAcks(control: Control, slot: number, sendTimes: SendTimes, t: AckTiming, seq: number, count: number): void {
  const now = monoNs();
  const faultNs = control.faultNs();
  if (faultNs > 0 && control.counter(slot, COUNTER_RECOVERED_NS) === 0 && sendTimes.get(seq + count - 1) > faultNs) {
    control.setCounter(slot, COUNTER_RECOVERED_NS, now);
  }
  for (let s = seq; s < seq + count; s++) {
    const sent = sendTimes.get(s);
    if (sent < 0) {
      t.publishMissed++;
      continue;
    }
    // the acks of a batch mostly share their latency: runs make them one record each
    t.publish[inside(sent, t.windowStart, t.windowEnd)]!.add(now - sent);
  }
  endRuns(t.publish);
}

type MutableBatch = { -readonly [K in keyof OutboundBatch]: OutboundBatch[K] };

/**
 * Closed loop sends until the window closes. Fixed rate sends its whole schedule, late
 * if need be; only an abort (a stop, or the runner pulling the window's end forward)
 * ends it early, and the runner counts what was left unsent.
 */
class SendLoop {
  private readonly staging: Uint8Array;
  private readonly intended: Float64Array;
  private readonly views: Array<Uint8Array | undefined> = [];
  private readonly batch: MutableBatch;
  private seq = 0;
  private sawAsync = false;
  private kept: OutboundBatch | undefined;
  private nextRetryNs = 0;
  /** with a payload: the next message of the pool */
  private pos = 0;

  constructor(
    private readonly producer: Producer,
    private readonly ledger: ProducerLedger,
    private readonly control: Control,
    private readonly load: LoadSettings,
    private readonly sendTimes: SendTimes,
    private readonly account: SendAccount,
    private readonly schedule: Schedule | undefined,
    /** the schedule's messages before the window's end; a planned early end lowers it */
    public intendedTotal: number,
    /** with a payload: the pool of whole messages the run cycles through, stamped in place */
    private readonly pool?: PayloadPool,
  ) {
    const size = load.messageSize;
    this.intended = new Float64Array(load.batchSize);
    if (pool) {
      this.staging = pool.bytes;
      this.batch = { bytes: this.staging, size, count: 0, producerId: ledger.producerId, firstSeq: 0 };
      return;
    }
    this.staging = new Uint8Array(size * load.batchSize);
    const template = encodeTemplate(size, ledger.producerId);
    for (let i = 0; i < load.batchSize; i++) this.staging.set(template, i * size);
    this.batch = { bytes: this.staging, size, count: 0, producerId: ledger.producerId, firstSeq: 0 };
  }

  async run(slot: number): Promise<void> {
    const { startNs, measureEndNs: plannedEndNs } = this.control.timeline();
    const retryEveryNs = this.load.retryEveryMs * 1e6;
    this.nextRetryNs = retryEveryNs > 0 ? startNs + retryEveryNs : 0;
    for (let wait = this.sendUntilWait(slot, startNs, plannedEndNs, retryEveryNs); wait; wait = this.sendUntilWait(slot, startNs, plannedEndNs, retryEveryNs)) {
      await wait;
    }
    this.control.setCounter(slot, COUNTER_SENT, this.seq);
  }

  /**
   * Sends until something must be awaited, and returns it (undefined: the run is over).
   * Synchronous on purpose: an async function keeps each local that lives across an
   * await in a heap context, a boxed double per clock read, and at 1 M msg/s that
   * garbage was most of the producer's young generation and its scavenges.
   */
  private sendUntilWait(slot: number, startNs: number, plannedEndNs: number, retryEveryNs: number): Promise<void> | undefined {
    for (;;) {
      const now = monoNs();
      if (now < startNs) return sleep(Math.max(0, Math.floor((startNs - now) / 1e6)));
      // Re-read the end: the runner pulls it forward on an abort (Ctrl-C, a failed worker),
      // or as planned when a backlog drain ended: then the schedule up to the new end is
      // still sent in full.
      const endNs = this.control.timeline().measureEndNs;
      const planned = endNs < plannedEndNs && this.control.windowClosedAsPlanned();
      if (planned && this.schedule) this.intendedTotal = Math.min(this.intendedTotal, this.schedule.countBefore(endNs));
      if (this.control.stopping() || (now >= endNs && (!this.schedule || (endNs < plannedEndNs && !planned)))) return undefined;
      if (this.schedule && this.seq >= this.intendedTotal) return undefined;
      const n = this.schedule ? this.stampDue(this.schedule, now) : this.stampNow(now);
      if (n === 0) {
        const dueNs = this.schedule!.intendedNs(this.seq);
        // Synchronous and due soon: wait here, not through a promise per gap (1 µs at 1 M msg/s).
        if (this.sawAsync || dueNs - monoNs() > SLEEP_ABOVE_NS) return awaitDue(this.control, dueNs, this.sawAsync);
        waitUntilDue(this.control, dueNs);
        continue;
      }
      const pending = this.handOver(n, now);
      const retry = this.nextRetryNs > 0 && now >= this.nextRetryNs;
      if (pending || retry) return this.afterHandOver(slot, pending, retry ? retryEveryNs : 0);
      this.control.setCounter(slot, COUNTER_SENT, this.seq);
    }
  }

  /** What a hand-over left to await: the system's promise, then a due retry. */
  private async afterHandOver(slot: number, pending: void | Promise<void>, retryEveryNs: number): Promise<void> {
    if (pending) await pending;
    if (retryEveryNs > 0) await this.retry(retryEveryNs);
    this.control.setCounter(slot, COUNTER_SENT, this.seq);
  }

  /**
   * Stamps what is due by `now` (at most a batch) with the intended times; 0 when nothing
   * is. One intended time per message and one peek past the last: counting what was due
   * from the rate profile on every turn of the loop, most turns with nothing due, cost a
   * few intended times a turn, each a HeapNumber for the young generation (at 1 M msg/s
   * the producer's scavenges, ~0.3 ms pauses, went from ~18 to ~10 a second).
   */
  private stampDue(schedule: Schedule, now: number): number {
    let max = Math.min(this.intendedTotal, this.seq + this.load.batchSize) - this.seq;
    // a batch never wraps around the pool's end: the rest goes in the next one
    if (this.pool) max = Math.min(max, this.pool.count - this.pos);
    let n = 0;
    for (; n < max; n++) {
      const t = schedule.intendedNs(this.seq + n);
      if (t > now) break;
      this.intended[n] = t;
      this.sendTimes.set(this.seq + n, t);
    }
    if (n === 0) return 0;
    if (this.pool) stampAt(this.staging, this.pool.offsets, this.pos, n, this.seq, this.intended, Date.now());
    else stampBatch(this.staging, this.load.messageSize, n, this.seq, this.intended, Date.now());
    return n;
  }

  private stampNow(now: number): number {
    const n = this.pool ? Math.min(this.load.batchSize, this.pool.count - this.pos) : this.load.batchSize;
    for (let i = 0; i < n; i++) this.sendTimes.set(this.seq + i, now);
    if (this.pool) stampAt(this.staging, this.pool.offsets, this.pos, n, this.seq, now, Date.now());
    else stampBatch(this.staging, this.load.messageSize, n, this.seq, now, Date.now());
    return n;
  }

  /**
   * `stampedNs`: closed loop's send time, read once per batch (no second clock read).
   * Returns the system's promise, if any: not async itself, so that a synchronous
   * system's hand-over allocates nothing (a promise per batch kept the young generation
   * filling, and its scavenges paused the producer).
   */
  private handOver(n: number, stampedNs: number): void | Promise<void> {
    const firstSeq = this.seq;
    // Count as sent before handing over: a synchronous system acks inside send().
    this.seq += n;
    this.ledger.sent = this.seq;
    if (this.schedule) this.account.handedOver(monoNs(), n, this.intended);
    else this.account.handedOver(stampedNs, n, null);
    if (this.pool) {
      const start = this.pos;
      this.pos = start + n === this.pool.count ? 0 : start + n;
      return this.sendRuns(this.pool, start, start + n, firstSeq);
    }
    const b = this.batch;
    b.bytes = this.view(n);
    b.count = n;
    b.firstSeq = firstSeq;
    const pending = this.producer.send(b);
    if (!pending) return undefined;
    this.sawAsync = true;
    return pending;
  }

  /**
   * Pool messages [k, end) as batches of equal-size messages (an OutboundBatch has one
   * size), one after another: a fixed payload size is one send, a range about one per message.
   */
  private sendRuns(pool: PayloadPool, k: number, end: number, firstSeq: number): void | Promise<void> {
    const b = this.batch;
    let seq = firstSeq;
    while (k < end) {
      const j = Math.min(pool.runEnd[k]!, end);
      b.bytes = pool.bytes.subarray(pool.offsets[k]!, pool.offsets[j]!);
      b.size = pool.offsets[k + 1]! - pool.offsets[k]!;
      b.count = j - k;
      b.firstSeq = seq;
      seq += j - k;
      k = j;
      const pending = this.producer.send(b);
      if (pending) {
        this.sawAsync = true;
        const next = k;
        const nextSeq = seq;
        return pending.then(() => this.sendRuns(pool, next, end, nextSeq));
      }
    }
  }

  /** The staging buffer's first n messages, one view per n made once. */
  private view(n: number): Uint8Array {
    if (n === this.load.batchSize) return this.staging;
    let v = this.views[n];
    if (!v) this.views[n] = v = this.staging.subarray(0, n * this.load.messageSize);
    return v;
  }

  /**
   * A retry after a lost or late ack: the batch kept one retry period ago goes out again
   * with its original sequences, putting duplicates on the wire.
   */
  private async retry(retryEveryNs: number): Promise<void> {
    this.nextRetryNs += retryEveryNs;
    if (this.kept) {
      this.ledger.resent += this.kept.count;
      const again = this.producer.send(this.kept);
      if (again) await again;
    }
    this.kept = { ...this.batch, bytes: this.batch.bytes.slice() };
  }
}
