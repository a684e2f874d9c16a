/**
 * Step 7 of a run: hand what was collected to the verdicts in src/checks and gather
 * their findings. The verdicts are pure; this step only reads the run's shared memory and
 * asks the broker for its own counts.
 */
import type { BrokerCounts } from '../core/contract.ts';
import type { BacklogResult, DeliveryCounts, PartitionsResult, SystemResult, TopicsResult } from '../core/result.ts';
import { judgeBacklog, type BacklogPhases } from '../checks/backlog-drain.ts';
import { reconcile } from '../checks/ledger.ts';
import { judgeDurability, promisedAcross, type DurabilityFinding } from '../checks/durability.ts';
import { DEFAULT_RESTART_WAIT_MS, type FaultRecord } from './fault-schedule.ts';
import { judgeExactlyOnce, type ExactlyOnceFinding, type FaultCounts } from '../checks/exactly-once.ts';
import { crossCheck, withCrossCheck } from '../checks/cross-check.ts';
import { faultsOf, heldNote, lateAckNote, latencyProblems, mechanismOf, statusOf } from '../checks/verdict.ts';
import { COUNTER_RECOVERED_NS, type Control } from './control.ts';
import { judgeSchedule, scheduleProblems, type ScheduleStats } from '../checks/schedule.ts';
import type { ConsumerTotals, ProducerTotals } from './collect.ts';
import type { RunContext } from './run-context.ts';
import type { RunClock } from './run-measure.ts';
import type { RunLoad, RunSpec } from './runner.ts';
import { runProfile } from './schedule.ts';
import { checkPartitions, countPerPartition, type PartitionCheckContext } from '../checks/partition-counts.ts';
import { checkTopics, countPerTopic } from '../checks/topic-counts.ts';
import { NO_KEYS } from '../core/keys.ts';
import { partitionPlanOf } from './run-context.ts';

export interface Verdict {
  status: SystemResult['status'];
  problems: string[];
  delivery: DeliveryCounts;
  broker?: NonNullable<SystemResult['broker']>;
  durability?: DurabilityFinding;
  exactlyOnce?: ExactlyOnceFinding;
  schedule?: ScheduleStats;
  partitions?: PartitionsResult;
  topics?: TopicsResult;
  backlog?: Omit<BacklogResult, 'drainLatency'>;
  latencyErrors: NonNullable<SystemResult['latencyErrors']>;
}

/** The earliest recovery any producer (ack) and any consumer (delivery) saw. */
function recoveryTimes(control: Control, load: RunLoad): { publishNs: number; deliveryNs: number } {
  const earliest = (from: number, to: number): number => {
    let best = 0;
    for (let slot = from; slot < to; slot++) {
      const t = control.counter(slot, COUNTER_RECOVERED_NS);
      if (t > 0 && (best === 0 || t < best)) best = t;
    }
    return best;
  };
  return { publishNs: earliest(0, load.producers), deliveryNs: earliest(load.producers, load.producers + load.consumers) };
}

function faultCountsOf(run: RunContext, p: ProducerTotals, c: ConsumerTotals, killed: boolean): FaultCounts {
  return {
    resent: p.reports.reduce((n, r) => n + r.resent, 0),
    consumerCrashes: c.crashes,
    stageCrashes: c.stages.reduce((n, r) => n + r.crashes, 0),
    // the kill is marked only once the process is gone: a kill that failed is not counted
    brokerKills: killed && run.control.faultNs() > 0 ? 1 : 0,
  };
}

function exactlyOnceOf(run: RunContext, p: ProducerTotals, c: ConsumerTotals, faultCounts: FaultCounts, clock: RunClock): ExactlyOnceFinding | undefined {
  const eo = run.spec.exactlyOnce;
  if (!eo || !c.applied) return undefined;
  return judgeExactlyOnce(p.reports, c.applied, eo.accounts, {
    guarantee: eo.guarantee,
    mechanism: mechanismOf(eo, run.capabilities, c.record),
    faults: faultsOf(eo, faultCounts, clock.faultRun !== undefined),
    faultCounts,
  });
}

async function brokerCrossCheck(run: RunContext, delivery: DeliveryCounts, c: ConsumerTotals, faultCounts: FaultCounts, fault: FaultRecord | undefined): Promise<Verdict['broker']> {
  const { session } = run;
  const counts: BrokerCounts | undefined = session.brokerCounts
    ? await session.brokerCounts().catch((e: Error) => ({ source: `unavailable: ${e.message}` }))
    : undefined;
  if (!counts) return undefined;
  const consumerCrashes = c.crashes + c.stages.reduce((n, r) => n + r.crashes, 0);
  return crossCheck(counts, delivery, {
    resent: faultCounts.resent,
    stages: run.spec.exactlyOnce?.stages ?? 1,
    reconnected: consumerCrashes > 0,
    restarted: fault !== undefined,
    // a store that never promised to survive this fault cannot be held to its count
    durable: promisedAcross(run.capabilities.durability, fault?.kind.type ?? 'kill'),
  });
}

/** With more than one partition: the ledgers' counts per partition, checked against the broker's where it has them. */
function partitionsOf(run: RunContext, p: ProducerTotals, c: ConsumerTotals, broker: Verdict['broker'], delivery: DeliveryCounts, faultCounts: FaultCounts, restarted: boolean): PartitionsResult | undefined {
  const count = run.session.partitions ?? run.spec.load.partitions ?? 1;
  if (count <= 1) return undefined;
  const counts = countPerPartition(p.reports, c.reports, partitionPlanOf(run.spec, count), run.spec.load.keys ?? NO_KEYS);
  return checkPartitions(counts, broker, domainContext(run, c, delivery, faultCounts, restarted));
}

/** Why per-domain broker counts cannot be held to the ledger's (the totals' own reasons), and the duplicates. */
function domainContext(run: RunContext, c: ConsumerTotals, delivery: DeliveryCounts, faultCounts: FaultCounts, restarted: boolean): PartitionCheckContext {
  const crashes = c.crashes + c.stages.reduce((n, r) => n + r.crashes, 0);
  const why = (run.spec.exactlyOnce?.stages ?? 1) > 1 ? 'pipeline stages' : restarted ? 'the broker restarted' : crashes > 0 ? 'consumers reconnected' : faultCounts.resent > 0 ? 'messages were re-sent' : undefined;
  return { duplicated: delivery.duplicated, ...(why ? { unjudgeable: why } : {}) };
}

/** With more than one topic: the ledgers' counts per topic, checked against the run's totals and the broker's. */
function topicsOf(run: RunContext, p: ProducerTotals, c: ConsumerTotals, broker: Verdict['broker'], delivery: DeliveryCounts, faultCounts: FaultCounts, restarted: boolean): TopicsResult | undefined {
  const count = run.spec.load.topics ?? 1;
  if (count <= 1) return undefined;
  return checkTopics(countPerTopic(p.reports, c.reports, count), delivery, broker, domainContext(run, c, delivery, faultCounts, restarted));
}

function latencyErrorsOf(p: ProducerTotals, c: ConsumerTotals): Verdict['latencyErrors'] {
  return {
    e2e: { clamped: c.e2e.clamped, negative: c.e2e.negative },
    publish: { clamped: p.publish.clamped, negative: p.publish.negative },
    redelivery: { clamped: c.redelivery.clamped, negative: c.redelivery.negative },
  };
}

/** The fault as injected, with the broker's own word on a service that did not come back. */
async function faultOutcome(run: RunContext, clock: RunClock): Promise<FaultRecord | undefined> {
  if (!clock.faultRun) return undefined;
  // the drain is over: the restart gets a bounded wait more, not the deployment's whole start deadline
  const record = await clock.faultRun.settled(run.spec.fault?.restartWaitMs ?? DEFAULT_RESTART_WAIT_MS);
  const problem = record.injected ? run.session.faults?.serviceProblem?.() : undefined;
  return problem ? { ...record, serviceProblem: problem } : record;
}

/** A schedule is judged on its mean offered rate; the batch allowance is the lowest rate's. */
function scheduleVerdict(spec: RunSpec, p: ProducerTotals, control: Control): ScheduleStats {
  const { producers, batchSize, durationMs, warmupMs } = spec.load;
  // a backlog drain ends the window when it is done: the window is as long as it ran
  const { measureStartNs, measureEndNs } = control.timeline();
  const windowMs = control.windowClosedAsPlanned() ? (measureEndNs - measureStartNs) / 1e6 : durationMs;
  if (!spec.rateSchedule) return judgeSchedule(p.sched, spec.ratePerSec, producers, batchSize, windowMs);
  const profile = runProfile(spec);
  const [fromNs, toNs] = [warmupMs * 1e6, (warmupMs + durationMs) * 1e6];
  const offered = (profile.countAt(toNs) - profile.countAt(fromNs)) / (durationMs / 1000);
  return judgeSchedule(p.sched, offered, producers, batchSize, durationMs, profile.lowestPerSec(fromNs, toNs));
}

export async function judge(run: RunContext, clock: RunClock, p: ProducerTotals, c: ConsumerTotals, held: number | undefined, phases?: BacklogPhases): Promise<Verdict> {
  const { spec } = run;
  const verdict = reconcile(p.reports, c.reports, c.discarded);
  if (held !== undefined) verdict.counts.undeliveredAtDeadline = held;
  const faultRecord = await faultOutcome(run, clock);
  const durability = faultRecord
    ? judgeDurability(run.capabilities, verdict.counts, faultRecord, recoveryTimes(run.control, spec.load), clock.measureStartNs)
    : undefined;
  const faultCounts = faultCountsOf(run, p, c, faultRecord !== undefined);
  const broker = await brokerCrossCheck(run, verdict.counts, c, faultCounts, faultRecord);
  const partitions = partitionsOf(run, p, c, broker, verdict.counts, faultCounts, faultRecord !== undefined);
  const topics = topicsOf(run, p, c, broker, verdict.counts, faultCounts, faultRecord !== undefined);
  const exactlyOnce = exactlyOnceOf(run, p, c, faultCounts, clock);
  const schedule = spec.ratePerSec > 0 ? scheduleVerdict(spec, p, run.control) : undefined;
  const backlog = phases ? judgeBacklog(phases) : undefined;
  const latencyErrors = latencyErrorsOf(p, c);
  const problems = [...verdict.problems];
  const note = heldNote(verdict.counts);
  if (note) problems.push(note);
  if (faultRecord?.serviceProblem) problems.push(faultRecord.serviceProblem);
  const late = lateAckNote(p.publishMissed);
  if (late) problems.push(late);
  if (schedule) problems.push(...scheduleProblems(schedule));
  if (backlog) problems.push(...backlog.problems);
  problems.push(...latencyProblems(latencyErrors));
  if (partitions?.agrees === false) problems.push(`broker disagrees per partition: ${partitions.note}`);
  if (topics && (!topics.consistent || topics.agrees === false)) problems.push(`per-topic counts: ${topics.note}`);
  // Under a fault, losses and duplicates are findings; only a broken promise fails the run.
  const crossChecked = withCrossCheck(statusOf(verdict.problems.length === 0, durability, exactlyOnce), broker);
  // a backlog never built or never drained is not a figure to quote as a drain rate
  const status = crossChecked === 'ok' && (partitions?.agrees === false || topics?.agrees === false || topics?.consistent === false || (backlog !== undefined && backlog.problems.length > 0)) ? 'warning' : crossChecked;
  return { status, problems, delivery: verdict.counts, latencyErrors, ...(backlog ? { backlog: backlog.result } : {}), ...(broker ? { broker } : {}), ...(partitions ? { partitions } : {}), ...(topics ? { topics } : {}), ...(durability ? { durability } : {}), ...(exactlyOnce ? { exactlyOnce } : {}), ...(schedule ? { schedule } : {}) };
}
