/**
 * Step 1 of a run, and its cleanup: open the system and the shared memory its workers
 * report through. Everything the later steps share lives in the RunContext.
 */
import { NO_KEYS } from '../core/keys.ts';
import type { PartitionPlan } from '../core/partitions.ts';
import fs from 'node:fs';
import path from 'node:path';
import { monoNs } from '../core/clock.ts';
import type { Capabilities, SystemSession } from '../core/contract.ts';
import { BusbenchError } from '../core/errors.ts';
import type { ResourceMeter } from '../core/resources.ts';
import { Control, STATE_STOP } from './control.ts';
import type { LoadSettings } from './protocol.ts';
import { RunIntervals } from './intervals.ts';
import type { WorkerHandle } from './run-workers.ts';
import type { Progress, RunHooks, RunSpec } from './runner.ts';
import type { WallAnchor } from './shard-run.ts';

export interface RunContext {
  readonly spec: RunSpec;
  readonly hooks: RunHooks;
  readonly log: (line: string) => void;
  readonly capabilities: Capabilities;
  readonly session: SystemSession;
  readonly control: Control;
  /** what every worker thread is started with */
  readonly workerLoad: LoadSettings;
  readonly intervals: RunIntervals;
  readonly workers: WorkerHandle[];
  readonly timers: NodeJS.Timeout[];
  /** set when the clock starts */
  meter?: ResourceMeter;
  /** a shard's start on both clocks, set when the clock starts */
  anchor?: WallAnchor;
  /** the first worker error, or the interrupt: the run stops and fails with it */
  failure?: Error;
  fail(err: Error): void;
  progress(p: Omit<Progress, 'system' | 'label'>): void;
  readonly onAbort: () => void;
}

/** Middle pipeline stages of the exactly-once scenario: each is a forwarder worker. */
export function forwardersOf(spec: RunSpec): number {
  return spec.exactlyOnce ? spec.exactlyOnce.stages - 1 : 0;
}

function workerLoadOf(spec: RunSpec): LoadSettings {
  const l = spec.load;
  return {
    messageSize: l.messageSize,
    batchSize: l.batchSize,
    maxInFlight: l.maxInFlight,
    ratePerSec: spec.ratePerSec / l.producers,
    ...(spec.rateSchedule ? { rateSegments: spec.rateSchedule.segments } : {}),
    intervalMs: l.intervalMs,
    drainTimeoutMs: l.drainTimeoutMs,
    workUs: l.workUs,
    retryEveryMs: spec.exactlyOnce?.retryEveryMs ?? 0,
    producers: l.producers,
    consumers: l.consumers,
    keys: l.keys ?? NO_KEYS,
    ...(l.payload ? { payload: l.payload } : {}),
  };
}

/** Without keys a producer batch's worth of consecutive messages goes to one partition (core/partitions.ts). */
export function partitionPlanOf(spec: RunSpec, count = spec.load.partitions ?? 1): PartitionPlan {
  return { count, chunk: spec.load.batchSize };
}

function openSession(spec: RunSpec, log: (line: string) => void): Promise<SystemSession> {
  return spec.adapter.open({
    runId: spec.runId,
    // absolute: brokers run with their own working directory
    runDir: path.resolve(spec.runDir),
    producers: spec.load.producers,
    consumers: spec.load.consumers,
    messageSize: spec.load.messageSize,
    maxInFlight: spec.load.maxInFlight,
    ...(spec.load.keys ? { keys: spec.load.keys } : {}),
    ...(spec.load.partitions ? { partitions: partitionPlanOf(spec) } : {}),
    ...(spec.load.topics && spec.load.topics > 1 ? { topics: spec.load.topics } : {}),
    brokers: spec.brokers,
    externalUrls: spec.externalUrls,
    options: spec.options,
    stages: spec.exactlyOnce?.stages ?? 1,
    ...(spec.fault ? { fault: spec.fault.kind } : {}),
    ...(spec.powerLossLayer ? { powerLossLayer: true } : {}),
    log,
  });
}

export async function openRun(spec: RunSpec, hooks: RunHooks): Promise<RunContext> {
  fs.mkdirSync(spec.runDir, { recursive: true });
  const log = hooks.log ?? (() => undefined);
  const capabilities = spec.adapter.capabilities(spec.options);
  const progress = (p: Omit<Progress, 'system' | 'label'>): void => hooks.progress?.({ ...p, system: spec.system, label: spec.label });
  const { load } = spec;
  progress({ phase: 'starting', elapsedMs: 0, totalMs: load.warmupMs + load.durationMs, msgsPerSec: 0, p99Us: null, sent: 0, received: 0 });
  const session = await openSession(spec, log);
  const control = Control.create(load.producers + load.consumers + forwardersOf(spec));
  // Consumers report every interval; the reducer keeps a summary once all of them did.
  const intervals = new RunIntervals(path.join(spec.runDir, `.intervals.${process.pid}.hlog.tmp`), load.intervalMs, [
    [{ name: 'e2e', expected: load.consumers }],
    [{ name: 'send-delay', expected: load.producers }],
  ]);
  const run: RunContext = {
    spec,
    hooks,
    log,
    capabilities,
    session,
    control,
    intervals,
    progress,
    workerLoad: workerLoadOf(spec),
    workers: [],
    timers: [],
    // The first error is the run's: later ones are its consequences (stopped workers).
    fail(err: Error): void {
      run.failure ??= err;
      control.endMeasurementNow(monoNs());
      control.setState(STATE_STOP);
    },
    onAbort: () => run.fail(new BusbenchError('INTERRUPTED', 'interrupted')),
  };
  hooks.signal?.addEventListener('abort', run.onAbort);
  return run;
}

/** Whatever happened: stop the workers, then close the system (brokers stop last). */
export async function closeRun(run: RunContext): Promise<void> {
  run.hooks.signal?.removeEventListener('abort', run.onAbort);
  for (const t of run.timers) clearTimeout(t);
  run.intervals.close();
  run.control.setState(STATE_STOP);
  await Promise.allSettled(run.workers.map((w) => w.worker.terminate()));
  await run.session.close();
}
