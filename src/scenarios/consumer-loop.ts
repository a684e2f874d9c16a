/**
 * One consumer, run in its own worker thread: receive, handle, ack, and account for
 * every message in the ledger.
 *
 * End-to-end latency = receipt time - the message's intended send time. The receipt
 * time is read once per delivered batch: every message of the batch was in hand at that
 * instant. Only messages *sent* inside the measured window enter the result histogram,
 * however late they arrive, so warm-up traffic never pollutes it and slow stragglers are
 * never dropped from it. Throughput counts messages *received* inside the window.
 */
import { monoNs } from '../core/clock.ts';
import type { Consumer } from '../core/contract.ts';
import { looksLikeEnvelope, readProducer, readQty, readSentNs, readSeq } from '../core/envelope.ts';
import { LatencyRecorder } from '../core/histogram.ts';
import { ConsumerLedger } from '../checks/ledger.ts';
import { COUNTER_DELIVERIES, COUNTER_RECEIVED_UNIQUE, COUNTER_RECOVERED_NS, type Control } from './control.ts';
import type { LoadSettings } from './protocol.ts';
import type { AccountState } from './account-state.ts';

export interface ConsumerOutcome {
  ledger: ConsumerLedger;
  e2e: LatencyRecorder;
  receivedInWindow: number;
  crashes: number;
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

/** Busy-waits: simulated handler work must burn CPU like real work, not sleep. */
function work(ns: number): void {
  const until = monoNs() + ns;
  while (monoNs() < until);
}

export async function runConsumer(
  consumerId: number,
  slot: number,
  control: Control,
  load: LoadSettings,
  first: Consumer,
  onInterval: IntervalSink,
  apply?: ApplyContext,
): Promise<ConsumerOutcome> {
  let consumer = first;
  let crashes = 0;
  const ledger = new ConsumerLedger(consumerId);
  const e2e = new LatencyRecorder();
  const interval = new LatencyRecorder();
  let intervalReceived = 0;
  let receivedInWindow = 0;
  const maxBatch = Math.max(load.batchSize, 64);
  const workNs = load.workUs * 1000;
  const intervalNs = load.intervalMs * 1e6;

  while (control.timeline().startNs === 0 && !control.stopping()) control.waitWhile(0, 5);
  const { startNs, measureStartNs } = control.timeline();
  let intervalIndex = 0;
  let intervalEndNs = startNs + intervalNs;
  const crashEveryNs = (apply?.crashEveryMs ?? 0) * 1e6;
  let nextCrashNs = crashEveryNs > 0 ? startNs + crashEveryNs : 0;

  const flushInterval = (): void => {
    onInterval(intervalIndex, intervalReceived, interval);
    interval.reset();
    intervalReceived = 0;
  };

  while (!control.stopping()) {
    let batch = consumer.receive(maxBatch, 50);
    if (batch instanceof Promise) batch = await batch;
    const now = monoNs();
    while (now >= intervalEndNs) {
      flushInterval();
      intervalIndex++;
      intervalEndNs += intervalNs;
    }
    const n = batch.count;
    if (n === 0) continue;
    const measureEndNs = control.timeline().measureEndNs;
    const faultNs = control.faultNs();
    const awaitingRecovery = faultNs > 0 && control.counter(slot, COUNTER_RECOVERED_NS) === 0;
    const inWindow = now >= measureStartNs && now < measureEndNs;
    let runValue = -1;
    let runCount = 0;
    for (let i = 0; i < n; i++) {
      const buf = batch.buffer(i);
      const off = batch.offset(i);
      if (!looksLikeEnvelope(buf, off, batch.length(i))) {
        ledger.malformed++;
        continue;
      }
      const producerId = readProducer(buf, off);
      const seq = readSeq(buf, off);
      ledger.record(producerId, seq);
      apply?.state.apply(producerId, seq, readQty(buf, off));
      const sentNs = readSentNs(buf, off);
      const latency = now - sentNs;
      interval.record(latency);
      if (sentNs >= measureStartNs && sentNs < measureEndNs) {
        // Messages of one batch often share a send time: record runs, not single values.
        if (latency === runValue) runCount++;
        else {
          if (runCount > 0) e2e.recordMany(runValue, runCount);
          runValue = latency;
          runCount = 1;
        }
      }
      if (awaitingRecovery && sentNs > faultNs) control.setCounter(slot, COUNTER_RECOVERED_NS, now);
      if (workNs > 0) work(workNs);
    }
    if (runCount > 0) e2e.recordMany(runValue, runCount);
    if (inWindow) receivedInWindow += n;
    intervalReceived += n;
    control.setCounter(slot, COUNTER_RECEIVED_UNIQUE, ledger.unique);
    control.setCounter(slot, COUNTER_DELIVERIES, ledger.deliveries);
    if (apply && nextCrashNs > 0 && now >= nextCrashNs) {
      // Processed, not acknowledged: the state has the batch, the system does not know.
      nextCrashNs += crashEveryNs;
      crashes++;
      await consumer.close();
      consumer = await apply.reconnect();
      continue;
    }
    const acked = consumer.ack(batch);
    if (acked) await acked;
  }
  flushInterval();
  control.setCounter(slot, COUNTER_RECEIVED_UNIQUE, ledger.unique);
  await consumer.close();
  return { ledger, e2e, receivedInWindow, crashes };
}
