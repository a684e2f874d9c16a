/**
 * Runs one measured run of one system: open the system, start consumer and producer
 * workers, warm up, measure, drain, then merge the workers' histograms and ledgers into
 * a SystemResult. The main thread only orchestrates, shows progress and aggregates.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { monoNs } from '../core/clock.ts';
import type { BrokerCounts, SystemAdapter, SystemSession } from '../core/contract.ts';
import { BusbenchError } from '../core/errors.ts';
import { HIGHEST_TRACKABLE_NS, LatencyRecorder, encodeHdr } from '../core/histogram.ts';
import type { SystemResult } from '../core/result.ts';
import type { Progress } from '../core/progress.ts';
import { ResourceMeter, totalPeakRssBytes } from '../core/resources.ts';
import { spawnTsWorker } from '../core/ts-worker.ts';
import { SeqSet, type SeqSetSnapshot } from '../checks/seqset.ts';
import { reconcile, type ConsumerLedgerSnapshot, type ProducerLedgerSnapshot } from '../checks/ledger.ts';
import { createFirstSeen } from '../checks/first-seen.ts';
import { workerModuleUrl } from '../adapters/registry.ts';
import { COUNTER_RECEIVED_UNIQUE, COUNTER_RECOVERED_NS, COUNTER_SENT, Control, STATE_DRAINING, STATE_STOP } from './control.ts';
import type { FromWorker, LoadSettings, WorkerStart } from './protocol.ts';
import { injectFault, type FaultPlan } from './fault-schedule.ts';
import { judgeDurability } from '../checks/durability.ts';
import { judgeExactlyOnce, type FaultCounts } from '../checks/exactly-once.ts';
import type { ApplyLedgerSnapshot } from '../checks/apply-ledger.ts';
import type { ApplyBehaviour, Guarantee } from './scenario.ts';
import { intendedTotal, judgeSchedule, scheduleProblems, type ScheduleTotals } from './schedule.ts';
import { RunIntervals } from './intervals.ts';

const WORKER_ENTRY = new URL('./worker.ts', import.meta.url);
/** the first workers must be up before the clock starts: broker clients connect here */
const READY_TIMEOUT_MS = 120_000;
/** consumers wait at most this long in one receive(), so a stop is seen promptly */
const STOP_GRACE_MS = 10_000;

export interface RunSpec {
  system: string;
  adapter: SystemAdapter;
  /** the module exporting `workerSide`; defaults to src/adapters/<system>/worker.ts */
  workerModule?: string;
  options: Record<string, unknown>;
  /** label of this run within the system, e.g. "rate=50000" */
  label: string;
  runId: string;
  runDir: string;
  brokers: 'native' | 'compose' | 'external';
  externalUrls: Record<string, string>;
  ratePerSec: number;
  durationMs: number;
  warmupMs: number;
  drainTimeoutMs: number;
  intervalMs: number;
  producers: number;
  consumers: number;
  messageSize: number;
  maxInFlight: number;
  batchSize: number;
  workUs: number;
  /** kill -9 and restart the broker during the measured phase */
  fault?: FaultPlan;
  /** the exactly-once scenario: apply to a checked state, retry, crash consumers */
  exactlyOnce?: ExactlyOnceSpec;
}

export interface ExactlyOnceSpec {
  guarantee: Guarantee;
  stages: number;
  retryEveryMs: number;
  crashEveryMs: number;
  behaviour: ApplyBehaviour;
  accounts: number;
}

/** Order -> Match -> Fill -> Ack; longer pipelines number their extra stages. */
export function stageName(stage: number, stages: number): string {
  const names = stages === 4 ? ['order', 'match', 'fill', 'ack'] : [];
  return names[stage] ?? `stage${stage}`;
}

/** re-exported: callers of runOnce take it from here */
export type { Progress };

export interface RunHooks {
  progress?(p: Progress): void;
  log?(line: string): void;
  /** aborts the run (Ctrl-C): the measured window closes now and the drain is short */
  signal?: AbortSignal;
  /** called with the open session, e.g. for fault injection by the durability scenarios */
  onSession?(session: SystemSession, control: { timelineNs(): { startNs: number; measureEndNs: number } }): void;
}

type DoneMessage = FromWorker & { type: 'producer-done' | 'consumer-done' | 'forwarder-done' };

interface WorkerHandle {
  worker: Worker;
  role: WorkerStart['role'];
  id: number;
  ready: Promise<void>;
  done: Promise<DoneMessage>;
}

interface RoleSpec {
  role: WorkerStart['role'];
  id: number;
  slot: number;
  stage: number;
  apply?: WorkerStart['apply'];
  firstSeen?: WorkerStart['firstSeen'];
}

function spawnRole(
  { role, id, slot, stage, apply, firstSeen }: RoleSpec,
  spec: RunSpec,
  session: SystemSession,
  control: Control,
  load: LoadSettings,
  onInterval: (m: FromWorker & { type: 'interval' }) => void,
  onError: (err: Error) => void,
  onSendInterval: (m: FromWorker & { type: 'send-interval' }) => void,
): WorkerHandle {
  const start: WorkerStart = {
    role,
    id,
    slot,
    stage,
    ...(apply ? { apply } : {}),
    ...(firstSeen ? { firstSeen } : {}),
    system: spec.system,
    workerModule: spec.workerModule ?? workerModuleUrl(spec.system),
    init: session.workerInit,
    control: control.buffers,
    load,
  };
  const worker = spawnTsWorker(WORKER_ENTRY, start as unknown as Record<string, unknown>);
  let readyResolve!: () => void;
  let doneResolve!: (m: DoneMessage) => void;
  let doneReject!: (e: Error) => void;
  const ready = new Promise<void>((r) => (readyResolve = r));
  const done = new Promise<DoneMessage>((res, rej) => {
    doneResolve = res;
    doneReject = rej;
  });
  done.catch(() => undefined);
  worker.on('message', (m: FromWorker) => {
    if (m.type === 'ready') readyResolve();
    else if (m.type === 'interval') onInterval(m);
    else if (m.type === 'send-interval') onSendInterval(m);
    else if (m.type === 'producer-done' || m.type === 'consumer-done' || m.type === 'forwarder-done') doneResolve(m);
    else if (m.type === 'error') {
      const err = new BusbenchError('ADAPTER', `${spec.system} ${role} ${id}: ${m.message}`);
      doneReject(err);
      onError(err);
    }
  });
  worker.on('error', (e) => {
    const err = new BusbenchError('ADAPTER', `${spec.system} ${role} ${id} crashed: ${e.message}`);
    doneReject(err);
    onError(err);
  });
  worker.on('exit', (code) => doneReject(new BusbenchError('ADAPTER', `${spec.system} ${role} ${id} exited (${code}) before reporting`)));
  return { worker, role, id, ready, done };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, rej) => {
      timer = setTimeout(() => rej(new BusbenchError('ADAPTER', `${what} did not happen within ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runOnce(spec: RunSpec, hooks: RunHooks = {}): Promise<SystemResult> {
  fs.mkdirSync(spec.runDir, { recursive: true });
  const log = hooks.log ?? (() => undefined);
  const capabilities = spec.adapter.capabilities(spec.options);
  const progress = (p: Omit<Progress, 'system' | 'label'>): void => hooks.progress?.({ ...p, system: spec.system, label: spec.label });
  progress({ phase: 'starting', elapsedMs: 0, totalMs: spec.warmupMs + spec.durationMs, msgsPerSec: 0, p99Us: null, sent: 0, received: 0 });

  const session = await spec.adapter.open({
    runId: spec.runId,
    // absolute: brokers run with their own working directory
    runDir: path.resolve(spec.runDir),
    producers: spec.producers,
    consumers: spec.consumers,
    messageSize: spec.messageSize,
    maxInFlight: spec.maxInFlight,
    brokers: spec.brokers,
    externalUrls: spec.externalUrls,
    options: spec.options,
    stages: spec.exactlyOnce?.stages ?? 1,
    log,
  });
  const eo = spec.exactlyOnce;
  const forwarders = eo ? eo.stages - 1 : 0;
  const control = Control.create(spec.producers + spec.consumers + forwarders);
  const load: LoadSettings = {
    messageSize: spec.messageSize,
    batchSize: spec.batchSize,
    maxInFlight: spec.maxInFlight,
    ratePerSec: spec.ratePerSec / spec.producers,
    intervalMs: spec.intervalMs,
    drainTimeoutMs: spec.drainTimeoutMs,
    workUs: spec.workUs,
    retryEveryMs: eo?.retryEveryMs ?? 0,
    producers: spec.producers,
    consumers: spec.consumers,
  };
  // Consumers report every interval; the reducer keeps a summary once all of them did.
  const intervals = new RunIntervals(path.join(spec.runDir, `.intervals.${process.pid}.hlog.tmp`), spec.intervalMs, [
    [{ name: 'e2e', expected: spec.consumers }],
    [{ name: 'send-delay', expected: spec.producers }],
  ]);
  let meter: ResourceMeter | undefined;
  const timers: NodeJS.Timeout[] = [];
  let failure: Error | undefined;
  const onError = (err: Error): void => {
    failure ??= err;
    control.endMeasurementNow(monoNs());
    control.setState(STATE_STOP);
  };
  const onInterval = (m: FromWorker & { type: 'interval' }): void => intervals.report({ kind: 'e2e', index: m.index, received: m.received, hist: m.hist });
  const onSendInterval = (m: FromWorker & { type: 'send-interval' }): void => intervals.report({ kind: 'send-delay', index: m.index, received: m.sent, hist: m.sendDelay });
  const abort = (): void => onError(new BusbenchError('INTERRUPTED', 'interrupted'));
  hooks.signal?.addEventListener('abort', abort);

  const workers: WorkerHandle[] = [];
  try {
    const apply = eo ? { guarantee: eo.guarantee, behaviour: eo.behaviour, accounts: eo.accounts, crashEveryMs: eo.crashEveryMs, capabilities } : undefined;
    const lastStage = forwarders;
    const spawn = (r: RoleSpec): void => void workers.push(spawnRole(r, spec, session, control, load, onInterval, onError, onSendInterval));
    // Several consumers share which messages any of them had: each message counts once.
    const firstSeen = spec.consumers > 1 ? createFirstSeen(spec.producers) : undefined;
    for (let c = 0; c < spec.consumers; c++) spawn({ role: 'consumer', id: c, slot: spec.producers + c, stage: lastStage, apply, firstSeen });
    for (let f = 0; f < forwarders; f++) spawn({ role: 'forwarder', id: f, slot: spec.producers + spec.consumers + f, stage: f, apply });
    for (let p = 0; p < spec.producers; p++) spawn({ role: 'producer', id: p, slot: p, stage: 0 });
    await withTimeout(
      Promise.race([Promise.all(workers.map((w) => w.ready)), ...workers.map((w) => w.done.then(() => undefined))]),
      READY_TIMEOUT_MS,
      'all workers ready',
    );
    if (failure) throw failure;

    const startNs = monoNs() + 20e6;
    const measureStartNs = startNs + spec.warmupMs * 1e6;
    intervals.start(startNs, measureStartNs);
    meter = new ResourceMeter(session.processes ? () => session.processes?.() ?? [] : undefined);
    timers.push(...windowMarks(meter, measureStartNs, measureStartNs + spec.durationMs * 1e6));
    control.setTimeline({ startNs, measureStartNs, measureEndNs: measureStartNs + spec.durationMs * 1e6 });
    control.setState(control.runState); // wake waiters
    hooks.onSession?.(session, { timelineNs: () => ({ startNs, measureEndNs: control.timeline().measureEndNs }) });
    const faultRun = spec.fault ? injectFault(session, control, spec.fault, measureStartNs, log) : undefined;

    // Progress until the producers are done.
    const producersDone = Promise.allSettled(workers.filter((w) => w.role === 'producer').map((w) => w.done));
    let lastReceived = 0;
    let lastTick = monoNs();
    const totalMs = spec.warmupMs + spec.durationMs;
    const tick = (phase: Progress['phase']): { sent: number; received: number } => {
      const now = monoNs();
      let sent = 0;
      let received = 0;
      for (let p = 0; p < spec.producers; p++) sent += control.counter(p, COUNTER_SENT);
      for (let c = 0; c < spec.consumers; c++) received += control.counter(spec.producers + c, COUNTER_RECEIVED_UNIQUE);
      const rate = ((received - lastReceived) * 1e9) / Math.max(1, now - lastTick);
      lastReceived = received;
      lastTick = now;
      const p99Us = intervals.latestP99('e2e');
      meter?.sample();
      if (now >= control.timeline().measureEndNs) meter?.markWindowEnd();
      progress({ phase, elapsedMs: Math.min(totalMs, (now - startNs) / 1e6), totalMs, msgsPerSec: rate, p99Us, sent, received });
      return { sent, received };
    };
    let finished = false;
    let wake: (() => void) | undefined;
    // Not Promise.race([producersDone, sleep]): each race leaves a reaction on the pending
    // producersDone (~300 B per tick, 300 kB/s at 1 ms intervals) until the producers end.
    void producersDone.then(() => {
      finished = true;
      wake?.();
    });
    while (!finished) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(spec.intervalMs, 1000));
        wake = (): void => {
          clearTimeout(timer);
          resolve();
        };
      });
      const now = monoNs();
      tick(now < measureStartNs ? 'warmup' : now < control.timeline().measureEndNs ? 'measure' : 'drain');
    }
    control.setState(STATE_DRAINING);
    const producerReports: ProducerLedgerSnapshot[] = [];
    const publish = new LatencyRecorder();
    let publishMissed = 0;
    const sched: ScheduleTotals = { intended: 0, sent: 0, sentInWindow: 0, sendDelay: new LatencyRecorder() };
    for (const w of workers.filter((x) => x.role === 'producer')) {
      // a failed producer: the run fails below, with the count of what was never sent
      const m = await w.done.catch((e: unknown) => {
        if (!failure) throw e;
        return undefined;
      });
      if (m?.type !== 'producer-done') continue;
      producerReports.push(m.ledger);
      publish.add(LatencyRecorder.fromSparse(m.publish));
      publishMissed += m.publishMissed;
      sched.sendDelay.add(LatencyRecorder.fromSparse(m.sendDelay));
      sched.intended += m.intended;
      sched.sent += m.ledger.sent;
      sched.sentInWindow += m.sentInWindow;
    }
    const schedule = spec.ratePerSec > 0 ? judgeSchedule(sched, spec.ratePerSec, spec.producers, spec.batchSize, spec.durationMs) : undefined;

    // Drain: every sent message is either received or, after the timeout, counted lost.
    const expected = producerReports.reduce((s, p) => s + p.sent, 0) - producerReports.reduce((s, p) => s + countOf(p.failed), 0);
    const uncertain = producerReports.reduce((s, p) => s + countOf(p.unknown), 0);
    const acked = producerReports.reduce((s, p) => s + countOf(p.acked), 0);
    const drainDeadline = Date.now() + (hooks.signal?.aborted ? 2000 : spec.drainTimeoutMs);
    const heldAtDeadline = await drain(session, { expected, uncertain, acked }, drainDeadline, () => tick('drain').received, () => failure !== undefined);
    control.setState(STATE_STOP);

    const consumerReports: ConsumerLedgerSnapshot[] = [];
    const e2e = new LatencyRecorder();
    const redelivery = new LatencyRecorder();
    let receivedInWindow = 0;
    let repeatsInWindow = 0;
    let crashes = 0;
    let applied: ApplyLedgerSnapshot | undefined;
    let record = '';
    const stageReports: Array<{ stage: string; forwarded: number; crashes: number; aborted: number }> = [];
    for (const w of workers.filter((x) => x.role !== 'producer')) {
      const m = await withTimeout(w.done, STOP_GRACE_MS, `${spec.system} ${w.role} ${w.id} stopping`);
      if (m.type === 'forwarder-done') stageReports.push({ stage: stageName(m.stage, eo?.stages ?? 1), forwarded: m.forwarded, crashes: m.crashes, aborted: m.aborted });
      if (m.type !== 'consumer-done') continue;
      consumerReports.push(m.ledger);
      e2e.add(LatencyRecorder.fromSparse(m.e2e));
      redelivery.add(LatencyRecorder.fromSparse(m.redelivery));
      receivedInWindow += m.receivedInWindow;
      repeatsInWindow += m.repeatsInWindow;
      crashes += m.crashes;
      applied = m.applied ?? applied;
      record = m.record ?? record;
    }
    if (failure) throw withUnsent(failure, spec, control, startNs, measureStartNs + spec.durationMs * 1e6);

    const verdict = reconcile(producerReports, consumerReports);
    if (heldAtDeadline !== undefined) verdict.counts.undeliveredAtDeadline = heldAtDeadline;
    const faultRecord = faultRun ? await faultRun : undefined;
    const durability = faultRecord
      ? judgeDurability(capabilities, verdict.counts, faultRecord, recoveryTimes(control, spec), measureStartNs)
      : undefined;
    const { measureStartNs: ms, measureEndNs: me } = control.timeline();
    const measuredMs = Math.max(1, (me - ms) / 1e6);
    const msgsPerSec = receivedInWindow / (measuredMs / 1000);
    const brokerCounts = session.brokerCounts ? await session.brokerCounts().catch((e: Error) => ({ source: `unavailable: ${e.message}` })) : undefined;
    const resent = producerReports.reduce((n, p) => n + p.resent, 0);
    const faultCounts: FaultCounts = {
      resent,
      consumerCrashes: crashes,
      stageCrashes: stageReports.reduce((n, r) => n + r.crashes, 0),
      // the kill is marked only once the process is gone: a kill that failed is not counted
      brokerKills: faultRecord && control.faultNs() > 0 ? 1 : 0,
    };
    const exactlyOnce =
      eo && applied
        ? judgeExactlyOnce(producerReports, applied, eo.accounts, {
            guarantee: eo.guarantee,
            mechanism: mechanismOf(eo, capabilities, record),
            faults: faultsOf(eo, faultCounts, faultRun !== undefined),
            faultCounts,
          })
        : undefined;
    const problems = [...verdict.problems];
    const held = heldNote(verdict.counts);
    if (held) problems.push(held);
    if (publishMissed > 0) problems.push(`${publishMissed} acks came too late to be timed`);
    const consumerCrashes = crashes + stageReports.reduce((n, r) => n + r.crashes, 0);
    const broker = brokerCounts
      ? crossCheck(brokerCounts, verdict.counts, { resent, stages: eo?.stages ?? 1, reconnected: consumerCrashes > 0, restarted: faultRun !== undefined, durable: capabilities.durable })
      : undefined;
    if (schedule) problems.push(...scheduleProblems(schedule));
    const latencyErrors = {
      e2e: { clamped: e2e.clamped, negative: e2e.negative },
      publish: { clamped: publish.clamped, negative: publish.negative },
      redelivery: { clamped: redelivery.clamped, negative: redelivery.negative },
    };
    problems.push(...latencyProblems(latencyErrors));
    const intervalLog = intervals.finish();
    const resources = meter!.result(receivedInWindow);
    const result: SystemResult = {
      system: spec.system,
      config: { label: spec.label, ...session.config },
      capabilities,
      // Under a fault, losses and duplicates are findings; only a broken promise fails the run.
      status: withCrossCheck(statusOf(verdict.problems.length === 0, durability, exactlyOnce), broker),
      ...(problems.length > 0 ? { error: problems.join('; ') } : {}),
      throughput: { msgsPerSec, bytesPerSec: msgsPerSec * spec.messageSize, measuredMs, receivedInWindow, repeatsInWindow },
      latency: { e2e: e2e.summary(), publish: publish.summary(), redelivery: redelivery.summary(), ...(schedule ? { sendDelay: sched.sendDelay.summary() } : {}) },
      delivery: verdict.counts,
      ...(broker ? { broker } : {}),
      intervals: intervals.stats('e2e', ms, me, 'send-delay'),
      histograms: {
        e2e: encodeHdr(e2e.toHdr()),
        publish: encodeHdr(publish.toHdr()),
        redelivery: encodeHdr(redelivery.toHdr()),
        ...(schedule ? { sendDelay: encodeHdr(sched.sendDelay.toHdr()) } : {}),
        unit: 'ns',
      },
      ...(schedule ? { schedule } : {}),
      latencyErrors,
      ...(intervalLog ? { intervalLog } : {}),
      peakRssBytes: totalPeakRssBytes(resources),
      resources,
      ...(durability ? { durability: { ...durability } } : {}),
      ...(exactlyOnce ? { exactlyOnce: { ...exactlyOnce, ...(stageReports.length > 0 ? { stages: stageReports } : {}) } } : {}),
    };
    return result;
  } finally {
    hooks.signal?.removeEventListener('abort', abort);
    for (const t of timers) clearTimeout(t);
    intervals.close();
    control.setState(STATE_STOP);
    await Promise.allSettled(workers.map((w) => w.worker.terminate()));
    await session.close();
  }
}

/** An aborted fixed-rate run says how much of its schedule it never sent. */
function withUnsent(failure: Error, spec: RunSpec, control: Control, startNs: number, plannedEndNs: number): Error {
  if (spec.ratePerSec <= 0 || !(failure instanceof BusbenchError)) return failure;
  let sent = 0;
  for (let p = 0; p < spec.producers; p++) sent += control.counter(p, COUNTER_SENT);
  const intended = intendedTotal(startNs, plannedEndNs, spec.ratePerSec, spec.producers);
  if (sent >= intended) return failure;
  return new BusbenchError(failure.code, `${failure.message}; ${intended - sent} of ${intended} intended messages never sent`, { cause: failure });
}

/**
 * Under a fault or a deliberate duplicate, losses and duplicates are findings; only a
 * broken promise fails the run: durability where promised, exactly-once application where
 * promised, and at least once application of every acknowledged message always.
 */
function statusOf(
  deliveryClean: boolean,
  durability: { promiseKept: boolean; error?: string } | undefined,
  eo: { guarantee: string; appliedTwice: number; neverApplied: number; stateCorrect: boolean } | undefined,
): SystemResult['status'] {
  if (eo) {
    const kept = eo.neverApplied === 0 && (eo.guarantee === 'at-least-once' || (eo.appliedTwice === 0 && eo.stateCorrect));
    return kept && (!durability || (durability.promiseKept && !durability.error)) ? 'ok' : 'delivery-errors';
  }
  if (durability) return durability.promiseKept && !durability.error ? 'ok' : 'delivery-errors';
  return deliveryClean ? 'ok' : 'delivery-errors';
}

function mechanismOf(eo: ExactlyOnceSpec, c: { deduplication: boolean; transactions: boolean }, record: string): string {
  if (eo.guarantee === 'at-least-once') return 'none: at-least-once (every delivery applied)';
  const parts = [c.deduplication ? 'the system drops re-sent (producer, sequence)' : 'no deduplication in the system', `consumer: ${record}`];
  if (eo.stages > 1) parts.push(c.transactions ? 'stages forward and ack in one transaction' : 'stages forward, then ack after the downstream ack');
  return parts.join('; ');
}

/** What was planned, each with how often it happened: a planned fault that never came shows 0. */
function faultsOf(eo: ExactlyOnceSpec, c: FaultCounts, brokerKillPlanned: boolean): string[] {
  const out: string[] = [];
  if (eo.retryEveryMs > 0) out.push(`producer retries: ${c.resent} messages re-sent as after a lost ack`);
  if (eo.crashEveryMs > 0) out.push(`consumer crashes between processing and acknowledging: ${c.consumerCrashes}`);
  if (eo.crashEveryMs > 0 && eo.stages > 1) out.push(`stage crashes between forwarding and acknowledging: ${c.stageCrashes}`);
  if (brokerKillPlanned) out.push(`broker kill -9 and restart: ${c.brokerKills} (see durability)`);
  if (eo.behaviour !== 'correct') out.push(`deliberately broken consumer: ${eo.behaviour}`);
  return out;
}

/** The earliest recovery any producer (ack) and any consumer (delivery) saw. */
function recoveryTimes(control: Control, spec: RunSpec): { publishNs: number; deliveryNs: number } {
  const earliest = (from: number, to: number): number => {
    let best = 0;
    for (let slot = from; slot < to; slot++) {
      const t = control.counter(slot, COUNTER_RECOVERED_NS);
      if (t > 0 && (best === 0 || t < best)) best = t;
    }
    return best;
  };
  return { publishNs: earliest(0, spec.producers), deliveryNs: earliest(spec.producers, spec.producers + spec.consumers) };
}

function countOf(snapshot: SeqSetSnapshot): number {
  return SeqSet.fromSnapshot(snapshot).size;
}

interface DrainTargets {
  /** sent and not rejected */
  expected: number;
  /** sent without an answer: may never come */
  uncertain: number;
  acked: number;
}

/**
 * Waits until every expected message was received, counted as the union across consumers
 * (each consumer counts only messages no consumer had before it: FirstSeen), or until
 * deliveries stopped with the broker holding nothing more for them, or the deadline.
 * Returns the broker's held count at the deadline when it timed out and the system can tell.
 */
async function drain(session: SystemSession, t: DrainTargets, deadline: number, received: () => number, failed: () => boolean): Promise<number | undefined> {
  let lastProgressAt = Date.now();
  let lastSeen = -1;
  let askedBrokerAt = 0;
  let brokerHolds = 0;
  while (!failed() && Date.now() < deadline) {
    const got = received();
    if (got >= t.expected) return undefined;
    if (got !== lastSeen) {
      lastSeen = got;
      lastProgressAt = Date.now();
      // Unanswered messages may never come; stop waiting for them once progress stops,
      // but never before as many messages arrived as were acknowledged (a broker may
      // still redeliver those after its ack wait).
    } else if (got >= t.expected - t.uncertain && got >= t.acked && Date.now() - lastProgressAt > 2000) {
      // Deliveries paused; the broker may still be holding messages it will redeliver.
      if (session.undelivered && Date.now() - askedBrokerAt > 1000) {
        askedBrokerAt = Date.now();
        brokerHolds = await session.undelivered().catch(() => 0);
      }
      if (!session.undelivered || brokerHolds === 0) return undefined;
    }
    await sleep(50);
  }
  if (failed() || !session.undelivered) return undefined;
  // a broker that does not answer leaves the count unknown, not zero
  return withTimeout(session.undelivered(), 5000, 'the broker counting what it holds').catch(() => undefined);
}

/** The broker's count is a number, not a set: it bounds how many losses are unproven. */
function heldNote(d: SystemResult['delivery']): string | undefined {
  const held = d.undeliveredAtDeadline ?? 0;
  if (held === 0 || d.lost === 0) return undefined;
  return (
    `the broker still held ${held} messages (undelivered or unacknowledged) at the drain deadline: ` +
    `up to ${Math.min(held, d.lost)} of the ${d.lost} counted lost (${d.ackedLost} acked) may still arrive, not proven lost`
  );
}

interface CrossCheckContext {
  /** deliberate re-sends: stored twice where nothing deduplicates them */
  resent: number;
  stages: number;
  /** a consumer closed and reconnected during the run */
  reconnected: boolean;
  /** a fault restarted the broker */
  restarted: boolean;
  durable: boolean;
}

type Check = { agrees: boolean | null; note: string };

function storedCheck(stored: number, d: SystemResult['delivery'], c: CrossCheckContext): Check {
  if (c.restarted && !c.durable) return { agrees: null, note: `broker stored ${stored}, not judged: the broker is not durable and was restarted` };
  const low = d.acked;
  if (c.restarted) {
    // Producers send again what was unanswered when the broker died, and it may store those twice.
    const agrees = stored >= low;
    return { agrees, note: `broker stored ${stored}, ${agrees ? 'at least' : 'fewer than'} acked ${low} (no upper bound across a restart: unanswered sends are sent again)` };
  }
  // The broker may hold messages whose ack never arrived (unknown), never ones that failed.
  const high = d.sent - d.failed + c.resent;
  const agrees = stored >= low && stored <= high;
  return { agrees, note: `broker stored ${stored}, ${agrees ? 'within' : 'outside'} [acked ${low}, sent-failed${c.resent > 0 ? '+re-sent' : ''} ${high}]` };
}

/**
 * Every distinct message received was delivered by the broker at least once, and it
 * delivered no more often than the consumers received. Where consumers reconnected, what a
 * closed consumer had prefetched or left unacknowledged is delivered again (and a system
 * may count acknowledgements), and a restart may reset the broker's counter: no bound holds.
 */
function deliveredCheck(delivered: number, d: SystemResult['delivery'], c: CrossCheckContext): Check {
  const why = c.stages > 1 ? "it counts stage 0's deliveries to the next stage" : c.restarted ? 'the broker restarted' : c.reconnected ? 'consumers reconnected' : '';
  if (why) return { agrees: null, note: `broker delivered ${delivered}, not judged: ${why}` };
  const low = d.received - d.duplicated;
  const high = d.received;
  const agrees = delivered >= low && delivered <= high;
  return { agrees, note: `broker delivered ${delivered}, ${agrees ? 'within' : 'outside'} [distinct received ${low}, deliveries ${high}]` };
}

function crossCheck(b: BrokerCounts, d: SystemResult['delivery'], c: CrossCheckContext): NonNullable<SystemResult['broker']> {
  const checks = [
    ...(b.stored !== undefined ? [storedCheck(b.stored, d, c)] : []),
    ...(b.delivered !== undefined ? [deliveredCheck(b.delivered, d, c)] : []),
  ];
  if (checks.length === 0) return { ...b, agrees: null, note: 'the broker reported no count' };
  const judged = checks.filter((x) => x.agrees !== null);
  const agrees = judged.length === 0 ? null : judged.every((x) => x.agrees === true);
  return { ...b, agrees, note: checks.map((x) => x.note).join('; ') };
}

/** A clean run whose broker disagrees with the ledger is not a number to quote. */
function withCrossCheck(status: SystemResult['status'], broker: SystemResult['broker']): SystemResult['status'] {
  return status === 'ok' && broker?.agrees === false ? 'warning' : status;
}

/** The measured window's CPU marks, taken on time rather than at the next progress tick. */
function windowMarks(meter: ResourceMeter, measureStartNs: number, measureEndNs: number): NodeJS.Timeout[] {
  const at = (ns: number, f: () => void): NodeJS.Timeout => setTimeout(f, Math.max(0, (ns - monoNs()) / 1e6));
  return [at(measureStartNs, () => meter.markWindowStart()), at(measureEndNs, () => meter.markWindowEnd())];
}

function latencyProblems(errors: Record<string, { clamped: number; negative: number }>): string[] {
  const out: string[] = [];
  for (const [name, e] of Object.entries(errors)) {
    if (e.negative > 0) out.push(`${e.negative} negative ${name} latencies (clock error)`);
    if (e.clamped > 0) out.push(`${e.clamped} ${name} latencies above ${HIGHEST_TRACKABLE_NS / 60e9} min recorded as ${HIGHEST_TRACKABLE_NS / 60e9} min`);
  }
  return out;
}

export function cleanRunData(runDir: string): void {
  fs.rmSync(path.join(runDir, 'data'), { recursive: true, force: true });
}
