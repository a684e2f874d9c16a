/**
 * Runs one measured run of one system: open the system, start consumer and producer
 * workers, warm up, measure, drain, then merge the workers' histograms and ledgers into
 * a SystemResult. The main thread only orchestrates, shows progress and aggregates.
 * Each step is a function of its own file; runOnce below is the whole sequence.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SystemAdapter, SystemSession } from '../core/contract.ts';
import type { RunParameters, SystemResult } from '../core/result.ts';
import type { Progress } from '../core/progress.ts';
import type { RateSchedule } from '../core/rate-profile.ts';
import type { FaultPlan } from '../scenario/scenario.ts';
import type { ApplyBehaviour, Guarantee } from '../scenario/scenario.ts';
import { closeRun, openRun } from './run-context.ts';
import { startWorkers } from './run-workers.ts';
import { measure, warmUp } from './run-measure.ts';
import { measureBacklog, type BacklogRun } from './backlog-phases.ts';
import { drainRun } from './drain.ts';
import { collectConsumers, collectProducers, withUnsent } from './collect.ts';
import { judge } from './judge.ts';
import { assemble } from './assemble.ts';
import type { RunShard } from './shard-run.ts';

export { stageName } from './collect.ts';

/**
 * The scenario's load and timing, the same for every run of it (a probe shortens the
 * timing): exactly the result file's parameters of the same names.
 */
export type RunLoad = Pick<
  RunParameters,
  'durationMs' | 'warmupMs' | 'drainTimeoutMs' | 'producers' | 'consumers' | 'messageSize' | 'maxInFlight' | 'batchSize' | 'intervalMs' | 'workUs' | 'keys' | 'partitions' | 'topics' | 'payload'
>;

/** One run: the choices that differ between the runs of a scenario, and the scenario's load. */
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
  /** all producers together (a schedule's warm-up rate); 0 = closed loop */
  ratePerSec: number;
  /** the measured window follows this schedule (its length is load.durationMs) */
  rateSchedule?: RateSchedule;
  load: RunLoad;
  /** kill -9 and restart the broker during the measured phase */
  fault?: FaultPlan;
  /** the broker's data on the power-loss layer even without a power-loss fault (bench/powerfs-overhead.ts) */
  powerLossLayer?: boolean;
  /** the exactly-once scenario: apply to a checked state, retry, crash consumers */
  exactlyOnce?: ExactlyOnceSpec;
  /** build a backlog with the consumers paused, then drain it (load.durationMs: maxBuild + maxDrain, the bound) */
  backlog?: BacklogRun;
  /** one shard of a sharded run: its clock starts at the common start (shard-run.ts) */
  shard?: RunShard;
}

export interface ExactlyOnceSpec {
  guarantee: Guarantee;
  stages: number;
  retryEveryMs: number;
  crashEveryMs: number;
  behaviour: ApplyBehaviour;
  accounts: number;
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

/** open → start workers → warm up → measure (or build and drain a backlog) → drain → collect → judge → assemble */
export async function runOnce(spec: RunSpec, hooks: RunHooks = {}): Promise<SystemResult> {
  const run = await openRun(spec, hooks);
  try {
    await startWorkers(run);
    const clock = warmUp(run);
    const backlog = spec.backlog ? await measureBacklog(run, clock, spec.backlog) : await measure(run, clock);
    const producers = await collectProducers(run);
    const held = await drainRun(run, clock, producers);
    const consumers = await collectConsumers(run);
    if (run.failure) throw withUnsent(run.failure, run, clock);
    const verdict = await judge(run, clock, producers, consumers, held, backlog || undefined);
    return assemble(run, producers, consumers, verdict);
  } finally {
    await closeRun(run);
  }
}

export function cleanRunData(runDir: string): void {
  fs.rmSync(path.join(runDir, 'data'), { recursive: true, force: true });
}
