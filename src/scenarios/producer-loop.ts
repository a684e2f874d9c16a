/**
 * The load generator of one producer, run in its own worker thread.
 *
 * Closed loop (rate 0): send batches as fast as the system takes them; the system's
 * producer bounds the in-flight window. The send time of a batch is read once per batch
 * (a clock read costs ~150 ns here, as much as moving a 512-byte message).
 *
 * Open loop (fixed rate): message k is *intended* to leave at start + k/rate, and that
 * intended time is what the message carries. When the producer falls behind (a stall,
 * a full window) it catches up with messages stamped with their intended times, so the
 * stall shows in every later message's latency instead of vanishing (coordinated omission).
 */
import { monoNs } from '../core/clock.ts';
import type { OutboundBatch, Producer } from '../core/contract.ts';
import { encodeTemplate, stampBatch } from '../core/envelope.ts';
import { LatencyRecorder } from '../core/histogram.ts';
import { ProducerLedger } from '../checks/ledger.ts';
import { COUNTER_RECOVERED_NS, COUNTER_SENT, type Control } from './control.ts';
import type { LoadSettings } from './protocol.ts';

/** Send times of recent sequences, to time acks; sized far beyond any in-flight window. */
class SendTimes {
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

const napCell = new Int32Array(new SharedArrayBuffer(4));

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

export interface ProducerOutcome {
  ledger: ProducerLedger;
  publish: LatencyRecorder;
  publishMissed: number;
}

export async function runProducer(
  producerId: number,
  slot: number,
  control: Control,
  load: LoadSettings,
  createProducer: (acks: ProducerLedger) => Promise<Producer>,
  onReady: () => void,
): Promise<ProducerOutcome> {
  const ledger = new ProducerLedger(producerId);
  const producer = await createProducer(ledger);
  const size = load.messageSize;
  const template = encodeTemplate(size, producerId);
  const staging = new Uint8Array(size * load.batchSize);
  for (let i = 0; i < load.batchSize; i++) staging.set(template, i * size);

  const publish = new LatencyRecorder();
  const intended = new Float64Array(load.batchSize);
  const sendTimes = new SendTimes(Math.max(load.maxInFlight, load.batchSize));
  let publishMissed = 0;
  let windowStart = 0;
  let windowEnd = 0;
  ledger.onAck = (seq, count) => {
    const now = monoNs();
    const faultNs = control.faultNs();
    if (faultNs > 0 && control.counter(slot, COUNTER_RECOVERED_NS) === 0 && sendTimes.get(seq + count - 1) > faultNs) {
      control.setCounter(slot, COUNTER_RECOVERED_NS, now);
    }
    let runValue = -1;
    let runCount = 0;
    for (let s = seq; s < seq + count; s++) {
      const sent = sendTimes.get(s);
      if (sent < 0) {
        publishMissed++;
        continue;
      }
      if (sent < windowStart || sent >= windowEnd) continue;
      const v = now - sent;
      if (v === runValue) runCount++;
      else {
        if (runCount > 0) publish.recordMany(runValue, runCount);
        runValue = v;
        runCount = 1;
      }
    }
    if (runCount > 0) publish.recordMany(runValue, runCount);
  };

  onReady();
  // Wait for the runner to publish the timeline.
  while (control.timeline().startNs === 0 && !control.stopping()) control.waitWhile(0, 5);
  const { startNs, measureStartNs, measureEndNs } = control.timeline();
  windowStart = measureStartNs;
  windowEnd = measureEndNs;
  const nsPerMsg = load.ratePerSec > 0 ? 1e9 / load.ratePerSec : 0;

  let seq = 0;
  let sawAsync = false;
  const retryEveryNs = load.retryEveryMs * 1e6;
  let nextRetryNs = retryEveryNs > 0 ? startNs + retryEveryNs : 0;
  let kept: OutboundBatch | undefined;
  const batch: { -readonly [K in keyof OutboundBatch]: OutboundBatch[K] } = {
    bytes: staging,
    size,
    count: 0,
    producerId,
    firstSeq: 0,
  };
  for (;;) {
    const now = monoNs();
    if (now < startNs) {
      await sleep(Math.max(0, Math.floor((startNs - now) / 1e6)));
      continue;
    }
    // Re-read the end: the runner may pull it forward (Ctrl-C, a failed worker).
    if (now >= control.timeline().measureEndNs || control.stopping()) break;
    let n = load.batchSize;
    if (nsPerMsg > 0) {
      const due = Math.floor((now - startNs) / nsPerMsg) + 1;
      n = Math.min(due - seq, load.batchSize);
      if (n <= 0) {
        const gapNs = startNs + seq * nsPerMsg - now;
        if (gapNs > 2e6) await sleep(Math.floor(gapNs / 1e6) - 1);
        else if (sawAsync) await yieldToEventLoop();
        // Sleep through most of a short gap rather than spin: two cores are shared with
        // the consumer. The last ~100 µs are spun, since a futex wake-up is that coarse.
        else if (gapNs > 200e3) Atomics.wait(napCell, 0, 0, (gapNs - 100e3) / 1e6);
        continue;
      }
    }
    if (nsPerMsg > 0) {
      for (let i = 0; i < n; i++) {
        intended[i] = Math.round(startNs + (seq + i) * nsPerMsg);
        sendTimes.set(seq + i, intended[i]!);
      }
      stampBatch(staging, size, n, seq, intended, Date.now());
    } else {
      for (let i = 0; i < n; i++) sendTimes.set(seq + i, now);
      stampBatch(staging, size, n, seq, now, Date.now());
    }
    batch.bytes = n === load.batchSize ? staging : staging.subarray(0, n * size);
    batch.count = n;
    batch.firstSeq = seq;
    // Count as sent before handing over: a synchronous system acks inside send().
    seq += n;
    ledger.sent = seq;
    const pending = producer.send(batch);
    if (pending) {
      sawAsync = true;
      await pending;
    }
    if (nextRetryNs > 0 && now >= nextRetryNs) {
      // A retry after a lost or late ack: the batch kept one retry period ago goes out
      // again with its original sequences, putting duplicates on the wire.
      nextRetryNs += retryEveryNs;
      if (kept) {
        ledger.resent += kept.count;
        const again = producer.send(kept);
        if (again) await again;
      }
      kept = { ...batch, bytes: batch.bytes.slice() };
    }
    control.setCounter(slot, COUNTER_SENT, seq);
  }
  control.setCounter(slot, COUNTER_SENT, seq);
  await producer.flush(load.drainTimeoutMs);
  await producer.close();
  return { ledger, publish, publishMissed };
}
