/**
 * One consumer, run in its own worker thread: receive, handle, ack, and account for
 * every message in the ledger.
 *
 * End-to-end latency = receipt time - the message's intended send time. The receipt
 * time is read once per delivered batch: every message of the batch was in hand at that
 * instant. Only messages *sent* inside the measured window enter the result histogram,
 * however late they arrive, so warm-up traffic never pollutes it and slow stragglers are
 * never dropped from it. Throughput counts messages *received* inside the window.
 *
 * Throughput, the e2e histogram and the interval figures count first deliveries only: a
 * message this consumer had already received (a redelivery, a duplicate) or, with more
 * than one consumer, one that another consumer received first (FirstSeen). A repeat keeps
 * its original intended send time, so it would add its whole redelivery delay to e2e;
 * repeats get their own count and their own histogram (`redelivery`) instead.
 */
import { monoNs } from '../../core/clock.ts';
import type { Consumer, DeliveryBatch, DiscardedEntries } from '../../core/contract.ts';
import { keyIndex, type KeyPlan } from '../../core/keys.ts';
import { bodyIntact, looksLikeEnvelope, readProducer, readQty, readSentNs, readSeq } from '../../core/envelope.ts';
import { verifies, type PayloadVerify } from '../../core/payload.ts';
import { LatencyRecorder } from '../../core/histogram.ts';
import { ConsumerLedger } from '../../checks/ledger.ts';
import { FirstSeen } from '../../checks/first-seen.ts';
import { COUNTER_DELIVERIES, COUNTER_RECEIVED_UNIQUE, COUNTER_RECOVERED_NS, IntervalGrid, type Control } from '../control.ts';
import type { LoadSettings } from '../protocol.ts';
import type { AccountState } from './account-state.ts';
import { Discards } from './discards.ts';
import { endRuns, inside, Runs, runsPair } from './window.ts';

export interface ConsumerOutcome {
  ledger: ConsumerLedger;
  /** first deliveries of messages sent in the measured window */
  e2e: LatencyRecorder;
  /** repeat deliveries of messages sent in the measured window */
  redelivery: LatencyRecorder;
  /** first deliveries received in the measured window */
  receivedInWindow: number;
  /** their bytes */
  bytesInWindow: number;
  /** repeat deliveries received in the measured window (not in receivedInWindow) */
  repeatsInWindow: number;
  crashes: number;
  /** first deliveries received in a backlog drain (resume → end of the window), e2e as always */
  drainPhase: LatencyRecorder;
  /** what the consumer instances threw away undelivered; undefined where they cannot tell */
  discarded: DiscardedEntries | undefined;
}

/** The exactly-once scenario: every delivery goes into a state, and the consumer crashes on schedule. */
export interface ApplyContext {
  state: AccountState;
  /** drop the connection between processing and acknowledging this often (0 = never) */
  crashEveryMs: number;
  /** a fresh consumer on the same stage, after a crash */
  reconnect(): Promise<Consumer>;
}

export type IntervalSink = (index: number, received: number, hist: LatencyRecorder) => void;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A backlog build: while the run holds the consumers, this one does not receive at all
 * (nothing is taken and dropped), so the broker keeps what is sent. It sleeps on the
 * event loop, not in Atomics.wait: a network client's connection must stay served. A
 * consumer whose client holds prefetched messages under an ack timeout is told
 * (Consumer.pause), so that what it holds is not redelivered while nobody reads it.
 */
class PauseState {
  private paused = false;
  /** the run builds a backlog (set before the timeline, so known once it is) */
  readonly planned: boolean;

  constructor(private readonly control: Control) {
    this.planned = control.backlogPlanned();
  }

  async holds(consumer: Consumer): Promise<boolean> {
    const hold = this.control.consumersPaused(monoNs()) && !this.control.stopping();
    if (hold !== this.paused) {
      this.paused = hold;
      const switched = hold ? consumer.pause?.() : consumer.resume?.();
      if (switched) await switched;
    }
    if (hold) await sleep(5);
    return hold;
  }
}

/** Busy-waits: simulated handler work must burn CPU like real work, not sleep. */
function work(ns: number): void {
  const until = monoNs() + ns;
  while (monoNs() < until);
}

/**
 * Where one consumer's deliveries go: first deliveries into throughput, the interval and
 * e2e; repeats into their own count and histogram.
 */
export class Tally {
  readonly e2e = new LatencyRecorder();
  readonly redelivery = new LatencyRecorder();
  readonly interval = new LatencyRecorder();
  /** first deliveries received in a backlog drain */
  readonly drainPhase = new LatencyRecorder();
  /** the drain's span, [resumedNs, measureEndNs); empty (from = to) without a backlog */
  drainFromNs = 0;
  drainToNs = 0;
  intervalReceived = 0;
  receivedInWindow = 0;
  bytesInWindow = 0;
  repeatsInWindow = 0;
  /** this consumer's share of the union across consumers: what the drain adds up */
  first = 0;
  /** [runs of messages sent outside the window (thrown away), e2e's runs]: window.ts says why */
  private readonly e2eRuns = runsPair(this.e2e);
  private readonly intervalRuns = new Runs(this.interval);
  /** [outside a backlog drain (thrown away), inside it] */
  private readonly drainRuns = runsPair(this.drainPhase);

  constructor(
    private readonly ledger: ConsumerLedger,
    private readonly shared: FirstSeen | undefined,
  ) {}

  /** `sentInWindow`, `receivedInWindow`: 1 or 0 (window.ts's inside()) */
  add(producerId: number, seq: number, lane: number, latency: number, sentInWindow: number, receivedInWindow: number, now: number, bytes: number): void {
    const first = this.ledger.record(producerId, seq, lane) && (this.shared === undefined || this.shared.mark(producerId, seq));
    if (!first) {
      if (sentInWindow) this.redelivery.record(latency);
      this.repeatsInWindow += receivedInWindow;
      return;
    }
    this.first++;
    this.intervalReceived++;
    // counted and recorded the same way before and inside the window: window.ts says why
    this.receivedInWindow += receivedInWindow;
    this.bytesInWindow += receivedInWindow * bytes;
    this.intervalRuns.add(latency);
    this.drainRuns[inside(now, this.drainFromNs, this.drainToNs)]!.add(latency);
    this.e2eRuns[sentInWindow]!.add(latency);
  }

  /** Records the runs still open: at the end of every batch, before any interval closes. */
  endRun(): void {
    endRuns(this.e2eRuns);
    endRuns(this.drainRuns);
    this.intervalRuns.end();
  }

  flushInterval(index: number, sink: IntervalSink): void {
    this.intervalRuns.end();
    sink(index, this.intervalReceived, this.interval);
    this.interval.reset();
    this.intervalReceived = 0;
  }
}

/** Closes the consumer's intervals on the run's grid as time passes them. */
class IntervalCutter {
  private index = 0;
  private endNs: number;

  constructor(
    private readonly grid: IntervalGrid,
    private readonly tally: Tally,
    private readonly sink: IntervalSink,
  ) {
    this.endNs = grid.firstEndNs;
  }

  upTo(nowNs: number): void {
    while (nowNs >= this.endNs) {
      this.tally.flushInterval(this.index, this.sink);
      this.index++;
      this.endNs = this.grid.endNs(this.index);
    }
  }

  /** the interval still open when the consumer stops */
  last(): void {
    this.tally.flushInterval(this.index, this.sink);
  }
}

/** What every batch of one consumer goes through: built once, not per batch. */
interface BatchTaker {
  control: Control;
  slot: number;
  measureStartNs: number;
  ledger: ConsumerLedger;
  tally: Tally;
  workNs: number;
  apply: ApplyContext | undefined;
  keys: KeyPlan;
  /** payload runs: which bodies to check against their checksum; undefined without a payload */
  verify: PayloadVerify | undefined;
  /** every message's size where the run has one (no payload pool), else 0 */
  fixedLength: number;
}

/**
 * The ordering domain of message i: its key where messages carry keys (keyed systems
 * promise order per key only), else the lane the system names (a partition), else one.
 */
function laneOf(batch: DeliveryBatch, i: number, keys: KeyPlan, producerId: number, seq: number): number {
  if (keys.distribution !== 'none') return keyIndex(keys, producerId, seq);
  return batch.lane ? batch.lane(i) : 0;
}

/** One delivered batch into the tally (and the state, in the exactly-once scenario). */
function takeBatch(batch: DeliveryBatch, now: number, { control, slot, measureStartNs, ledger, tally, workNs, apply, keys, verify, fixedLength }: BatchTaker): void {
  const measureEndNs = control.timeline().measureEndNs;
  const faultNs = control.faultNs();
  const awaitingRecovery = faultNs > 0 && control.counter(slot, COUNTER_RECOVERED_NS) === 0;
  const inWindow = inside(now, measureStartNs, measureEndNs);
  const resumedNs = control.resumedNs();
  // without a backlog drain the span is empty
  tally.drainFromNs = resumedNs > 0 ? Math.min(resumedNs, measureEndNs) : measureEndNs;
  tally.drainToNs = measureEndNs;
  const n = batch.count;
  for (let i = 0; i < n; i++) {
    const buf = batch.buffer(i);
    const off = batch.offset(i);
    const length = batch.length(i);
    if (!looksLikeEnvelope(buf, off, length, fixedLength)) {
      ledger.malformed++;
      continue;
    }
    const producerId = readProducer(buf, off);
    const seq = readSeq(buf, off);
    const sentNs = readSentNs(buf, off);
    if (verify !== undefined && verifies(verify, seq)) {
      ledger.checksummed++;
      if (!bodyIntact(buf, off, length)) ledger.corrupted++;
    }
    tally.add(producerId, seq, laneOf(batch, i, keys, producerId, seq), now - sentNs, inside(sentNs, measureStartNs, measureEndNs), inWindow, now, length);
    // every delivery is applied: the exactly-once check judges what a repeat does to the state
    apply?.state.apply(producerId, seq, readQty(buf, off));
    if (awaitingRecovery && sentNs > faultNs) control.setCounter(slot, COUNTER_RECOVERED_NS, now);
    if (workNs > 0) work(workNs);
  }
  tally.endRun();
}

export async function runConsumer(
  consumerId: number,
  slot: number,
  control: Control,
  load: LoadSettings,
  first: Consumer,
  onInterval: IntervalSink,
  apply?: ApplyContext,
  firstSeen?: SharedArrayBuffer[],
): Promise<ConsumerOutcome> {
  let consumer = first;
  let crashes = 0;
  const ledger = new ConsumerLedger(consumerId);
  const tally = new Tally(ledger, firstSeen ? new FirstSeen(firstSeen) : undefined);
  const maxBatch = Math.max(load.batchSize, 64);
  const workNs = load.workUs * 1000;
  const intervalNs = load.intervalMs * 1e6;

  while (control.timeline().startNs === 0 && !control.stopping()) control.waitWhile(0, 5);
  const { startNs, measureStartNs } = control.timeline();
  const intervals = new IntervalCutter(new IntervalGrid(startNs, measureStartNs, intervalNs), tally, onInterval);
  const crashEveryNs = (apply?.crashEveryMs ?? 0) * 1e6;
  let nextCrashNs = crashEveryNs > 0 ? startNs + crashEveryNs : 0;
  const verify = load.payload && load.payload.verify !== 'off' ? load.payload.verify : undefined;
  const taker: BatchTaker = { control, slot, measureStartNs, ledger, tally, workNs, apply, keys: load.keys, verify, fixedLength: load.payload ? 0 : load.messageSize };
  const discards = new Discards();

  const pause = new PauseState(control);

  while (!control.stopping()) {
    // a paused consumer still closes its intervals: the backlog shows in them as it grows
    // without a backlog, no await and no clock read here: the ring's hot path stays synchronous
    if (pause.planned && (await pause.holds(consumer))) {
      intervals.upTo(monoNs());
      continue;
    }
    let batch = consumer.receive(maxBatch, 50);
    if (batch instanceof Promise) batch = await batch;
    const now = monoNs();
    intervals.upTo(now);
    if (batch.count === 0) continue;
    takeBatch(batch, now, taker);
    control.setCounter(slot, COUNTER_RECEIVED_UNIQUE, tally.first);
    control.setCounter(slot, COUNTER_DELIVERIES, ledger.deliveries);
    if (apply && nextCrashNs > 0 && now >= nextCrashNs) {
      // Processed, not acknowledged: the state has the batch, the system does not know.
      nextCrashNs += crashEveryNs;
      crashes++;
      await consumer.close();
      discards.add(consumer);
      consumer = await apply.reconnect();
      continue;
    }
    const acked = consumer.ack(batch);
    if (acked) await acked;
  }
  intervals.last();
  control.setCounter(slot, COUNTER_RECEIVED_UNIQUE, tally.first);
  await consumer.close();
  discards.add(consumer);
  const { e2e, redelivery, receivedInWindow, bytesInWindow, repeatsInWindow, drainPhase } = tally;
  return { ledger, e2e, redelivery, receivedInWindow, bytesInWindow, repeatsInWindow, crashes, discarded: discards.result(), drainPhase };
}
