/**
 * Step 6 of a run (and the producers' half before the drain): gather every worker's final
 * report, merging histograms and keeping the ledgers for the verdicts.
 */
import { BusbenchError } from '../core/errors.ts';
import { LatencyRecorder } from '../core/histogram.ts';
import type { ConsumerLedgerSnapshot, ProducerLedgerSnapshot } from '../checks/ledger.ts';
import type { ApplyLedgerSnapshot } from '../checks/apply-ledger.ts';
import type { DiscardedEntries } from '../core/contract.ts';
import { COUNTER_SENT } from './control.ts';
import { intendedTotal, runProfile } from './schedule.ts';
import type { ScheduleTotals } from '../checks/schedule.ts';
import type { RunContext } from './run-context.ts';
import type { RunClock } from './run-measure.ts';
import { withTimeout } from './run-workers.ts';

/** consumers wait at most this long in one receive(), so a stop is seen promptly */
const STOP_GRACE_MS = 10_000;

export interface ProducerTotals {
  reports: ProducerLedgerSnapshot[];
  publish: LatencyRecorder;
  publishMissed: number;
  /** publishMissed by producer id: a shard's ledger carries it, so a merge counts it per producer */
  publishMissedBy: Map<number, number>;
  sched: ScheduleTotals;
}

export interface StageReport {
  stage: string;
  forwarded: number;
  crashes: number;
  aborted: number;
}

export interface ConsumerTotals {
  reports: ConsumerLedgerSnapshot[];
  e2e: LatencyRecorder;
  redelivery: LatencyRecorder;
  receivedInWindow: number;
  bytesInWindow: number;
  repeatsInWindow: number;
  crashes: number;
  /** first deliveries received in a backlog drain phase */
  drainPhase: LatencyRecorder;
  applied?: ApplyLedgerSnapshot;
  /** how the consumer recognises what it already applied (exactly-once scenario) */
  record: string;
  stages: StageReport[];
  /** from every consumer and middle stage that could tell */
  discarded: DiscardedEntries[];
}

/** Order -> Match -> Fill -> Ack; longer pipelines number their extra stages. */
export function stageName(stage: number, stages: number): string {
  const names = stages === 4 ? ['order', 'match', 'fill', 'ack'] : [];
  return names[stage] ?? `stage${stage}`;
}

export async function collectProducers(run: RunContext): Promise<ProducerTotals> {
  const t: ProducerTotals = { reports: [], publish: new LatencyRecorder(), publishMissed: 0, publishMissedBy: new Map(), sched: { intended: 0, sent: 0, sentInWindow: 0, sendDelay: new LatencyRecorder() } };
  for (const w of run.workers.filter((x) => x.role === 'producer')) {
    // a failed producer: the run fails later, with the count of what was never sent
    const m = await w.done.catch((e: unknown) => {
      if (!run.failure) throw e;
      return undefined;
    });
    if (m?.type !== 'producer-done') continue;
    t.reports.push(m.ledger);
    t.publish.add(LatencyRecorder.fromSparse(m.publish));
    t.publishMissed += m.publishMissed;
    if (m.publishMissed > 0) t.publishMissedBy.set(m.ledger.producerId, m.publishMissed);
    t.sched.sendDelay.add(LatencyRecorder.fromSparse(m.sendDelay));
    t.sched.intended += m.intended;
    t.sched.sent += m.ledger.sent;
    t.sched.sentInWindow += m.sentInWindow;
  }
  return t;
}

export async function collectConsumers(run: RunContext): Promise<ConsumerTotals> {
  const t: ConsumerTotals = { reports: [], e2e: new LatencyRecorder(), redelivery: new LatencyRecorder(), receivedInWindow: 0, bytesInWindow: 0, repeatsInWindow: 0, crashes: 0, drainPhase: new LatencyRecorder(), record: '', stages: [], discarded: [] };
  for (const w of run.workers.filter((x) => x.role !== 'producer')) {
    const m = await withTimeout(w.done, STOP_GRACE_MS, `${run.spec.system} ${w.role} ${w.id} stopping`);
    if (m.type === 'forwarder-done') t.stages.push({ stage: stageName(m.stage, run.spec.exactlyOnce?.stages ?? 1), forwarded: m.forwarded, crashes: m.crashes, aborted: m.aborted });
    if ((m.type === 'forwarder-done' || m.type === 'consumer-done') && m.discarded) t.discarded.push(m.discarded);
    if (m.type !== 'consumer-done') continue;
    t.reports.push(m.ledger);
    t.e2e.add(LatencyRecorder.fromSparse(m.e2e));
    t.redelivery.add(LatencyRecorder.fromSparse(m.redelivery));
    t.receivedInWindow += m.receivedInWindow;
    t.bytesInWindow += m.bytesInWindow;
    t.repeatsInWindow += m.repeatsInWindow;
    t.crashes += m.crashes;
    if (m.drainPhase) t.drainPhase.add(LatencyRecorder.fromSparse(m.drainPhase));
    t.applied = m.applied ?? t.applied;
    t.record = m.record ?? t.record;
  }
  return t;
}

/** An aborted fixed-rate run says how much of its schedule it never sent. */
export function withUnsent(failure: Error, run: RunContext, clock: RunClock): Error {
  const { spec, control } = run;
  if (spec.ratePerSec <= 0 || !(failure instanceof BusbenchError)) return failure;
  let sent = 0;
  for (let p = 0; p < spec.load.producers; p++) sent += control.counter(p, COUNTER_SENT);
  const intended = intendedTotal(clock.startNs, clock.plannedEndNs, runProfile(spec), spec.load.producers);
  if (sent >= intended) return failure;
  return new BusbenchError(failure.code, `${failure.message}; ${intended - sent} of ${intended} intended messages never sent`, { cause: failure });
}
