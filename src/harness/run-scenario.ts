/**
 * A whole scenario: every system, every rate, in order, into one RunResult. Systems are
 * opened one at a time so they never compete for the two cores.
 */
import path from 'node:path';
import type { RunShape, SystemAdapter } from '../core/contract.ts';
import { BusbenchError } from '../core/errors.ts';
import { describeEnvironment } from '../core/environment.ts';
import { RESULT_SCHEMA, type RunResult, type SystemResult } from '../core/result.ts';
import { describeRate, type Guarantee, type Rate, type Scenario } from '../scenario/scenario.ts';
import { runOnce, cleanRunData, type RunHooks, type RunLoad, type RunSpec } from './runner.ts';
import { cellsFor, interleave, summarizeCells } from '../scenario/matrix.ts';
import { searchSustainable } from './sustainable-search.ts';
import { backlogTarget, maxBuildMs } from '../scenario/backlog.ts';
import type { BacklogRun } from './backlog-phases.ts';
import { shardPart, type RunShard } from './shard-run.ts';

/** A matrix cell of one system with its options already validated by the adapter. */
export interface PlannedCell {
  label: string;
  options: Record<string, unknown>;
  /** the exactly-once scenario's guarantee for this cell */
  guarantee?: Guarantee;
}

export interface ScenarioRun {
  scenario: Scenario;
  adapters: Map<string, SystemAdapter>;
  /** validated options per system and matrix cell (one unlabelled cell without a matrix) */
  cells: Map<string, PlannedCell[]>;
  brokers: 'native' | 'compose' | 'external';
  externalUrls: Record<string, string>;
  /** results/<stamp>-<scenario>: broker logs of each run go under it */
  runBase: string;
  /** one shard of a sharded run: `scenario` is this shard's part, `whole` the scenario as written */
  shard?: { run: RunShard; whole: Scenario };
}

/**
 * Validates a system's options in every matrix cell (and, in the exactly-once scenario,
 * under every guarantee) before anything starts.
 */
export function planCells(system: string, adapter: SystemAdapter, s: Scenario, brokers: RunShape['brokers']): PlannedCell[] {
  const where = (label: string): string => `${s.file}${label ? ` [matrix ${label}]` : ''}`;
  const shape: RunShape = {
    producers: s.producers,
    consumers: s.consumers,
    messageSize: s.messageSize,
    stages: s.exactlyOnce?.stages ?? 1,
    brokers,
    keys: s.keys,
    ...(s.partitions > 1 ? { partitions: s.partitions } : {}),
    ...(s.topics > 1 ? { topics: s.topics } : {}),
    ...(s.fault ? { fault: s.fault.kind } : {}),
    ...(s.backlog ? { backlog: backlogTarget(s.backlog, s.messageSize) } : {}),
  };
  const validated = (raw: unknown, label: string): Record<string, unknown> => {
    const options = adapter.parseOptions(raw, where(label));
    adapter.checkRun?.(options, shape, where(label));
    return options;
  };
  return cellsFor(system, s).flatMap((c): PlannedCell[] => {
    if (!s.exactlyOnce) return [{ label: c.label, options: validated(c.raw, c.label) }];
    return s.exactlyOnce.guarantees.map((g) => {
      const label = [`guarantee=${g}`, c.label].filter(Boolean).join(',');
      // The guarantee's mechanisms first, the scenario's own settings on top.
      return { label, guarantee: g, options: validated({ ...adapter.guaranteeOptions?.(g), ...c.raw }, label) };
    });
  });
}

/** In the result's parameter order: the result file spreads it there. */
export function loadOf(s: Scenario): RunLoad {
  return {
    durationMs: s.durationMs,
    warmupMs: s.warmupMs,
    drainTimeoutMs: s.drainTimeoutMs,
    producers: s.producers,
    consumers: s.consumers,
    messageSize: s.messageSize,
    maxInFlight: s.maxInFlight,
    batchSize: s.batchSize,
    intervalMs: s.intervalMs,
    workUs: s.workUs,
    // absent without keys, so a keyless run's parameters read as before the field existed
    ...(s.keys.distribution !== 'none' ? { keys: s.keys } : {}),
    ...(s.partitions > 1 ? { partitions: s.partitions } : {}),
    ...(s.topics > 1 ? { topics: s.topics } : {}),
    ...(s.payload ? { payload: s.payload } : {}),
  };
}

/** A backlog at a fixed rate: its target in messages and the bounds of its two phases. */
function backlogRun(s: Scenario, ratePerSec: number): BacklogRun | undefined {
  if (!s.backlog || ratePerSec <= 0) return undefined;
  const target = backlogTarget(s.backlog, s.messageSize);
  return { ...target, maxBuildMs: maxBuildMs(s.backlog, target.messages, ratePerSec), maxDrainMs: s.backlog.maxDrainMs };
}

function baseSpec(run: ScenarioRun, system: string, cell: PlannedCell, label: string, index: number, ratePerSec: number): RunSpec {
  const s = run.scenario;
  const runDir = path.join(run.runBase, `${system}-${index}`);
  return {
    system,
    adapter: run.adapters.get(system)!,
    options: cell.options,
    label,
    runId: `${path.basename(run.runBase)}-${system}-${index}`.replace(/[^\w-]/g, '_'),
    runDir,
    brokers: run.brokers,
    externalUrls: run.externalUrls,
    ratePerSec,
    load: loadOf(s),
    ...(s.fault ? { fault: s.fault } : {}),
    ...(run.shard ? { shard: run.shard.run } : {}),
    ...(s.exactlyOnce && cell.guarantee
      ? {
          exactlyOnce: {
            guarantee: cell.guarantee,
            stages: s.exactlyOnce.stages,
            retryEveryMs: s.exactlyOnce.retryEveryMs,
            crashEveryMs: s.exactlyOnce.crashEveryMs,
            behaviour: s.exactlyOnce.consumer,
            accounts: s.exactlyOnce.accounts,
          },
        }
      : {}),
  };
}

function failedResult(system: string, label: string, adapter: SystemAdapter, options: Record<string, unknown>, err: unknown): SystemResult {
  const empty = { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, p9999: 0, max: 0 };
  return {
    system,
    config: { label },
    capabilities: adapter.capabilities(options),
    status: 'failed',
    error: err instanceof Error ? err.message : String(err),
    throughput: { msgsPerSec: 0, bytesPerSec: 0, measuredMs: 0, receivedInWindow: 0 },
    latency: { e2e: empty, publish: empty },
    delivery: { sent: 0, acked: 0, failed: 0, unknown: 0, received: 0, lost: 0, ackedLost: 0, unackedDelivered: 0, duplicated: 0, outOfOrder: 0 },
    intervals: [],
    histograms: { e2e: '', publish: '', unit: 'ns' },
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

/** The 100% of a cell's "N%" rates, and the search that found it, in words for the result. */
interface Maximum {
  perSec: number;
  probe: string;
}

/** What the runs of one scenario share: results so far, searched maxima, the run counter. */
interface ScenarioState {
  run: ScenarioRun;
  hooks: RunHooks;
  systems: SystemResult[];
  maxima: Map<string, Maximum>;
  index: number;
}

const maximumKey = (system: string, cell: PlannedCell): string => `${system}\u0000${cell.label}`;

/**
 * The 100% of "N%" rates: the cell's maximum sustainable rate, found once by the open-loop
 * search (the scenario's sustainable: section bounds it). A closed-loop maximum would not
 * do: it keeps the in-flight window full, so in open loop even a fraction of it may not
 * be sustainable.
 */
async function maximumFor(st: ScenarioState, system: string, cell: PlannedCell): Promise<Maximum> {
  const key = maximumKey(system, cell);
  let max = st.maxima.get(key);
  if (max === undefined) {
    st.hooks.log?.(`${system}${cell.label ? ` [${cell.label}]` : ''}: searching the maximum sustainable rate (open loop) for the N% rates`);
    const o = (await searchFor(st, system, cell, 'probe')).sustainable!;
    if (o.sustainablePerSec === null) throw new BusbenchError('ADAPTER', `${system}: no sustainable rate found for the N% rates: ${o.stop}`);
    max = { perSec: o.sustainablePerSec, probe: `open-loop sustainable search: ${o.steps.length} steps, ${o.converged ? 'converged' : o.stop}` };
    st.maxima.set(key, max);
  }
  return max;
}

/** One run at a fixed rate (0: closed loop), its run data removed once measured. */
async function measureAt(st: ScenarioState, system: string, cell: PlannedCell, label: string, ratePerSec: number, load: Partial<RunLoad> = {}, extra: Partial<RunSpec> = {}): Promise<SystemResult> {
  const spec = baseSpec(st.run, system, cell, label, st.index++, ratePerSec);
  const result = await runOnce(shardPart({ ...spec, ...extra, load: { ...spec.load, ...load } }), st.hooks);
  result.config.ratePerSec = ratePerSec === 0 ? 'max' : ratePerSec;
  cleanRunData(spec.runDir);
  return result;
}

/** rate: sustainable: fixed-rate steps of the scenario's search, the best passing one kept. */
function searchFor(st: ScenarioState, system: string, cell: PlannedCell, label: string): Promise<SystemResult> {
  const s = st.run.scenario;
  const plan = s.sustainable;
  const where = `${system}${label ? ` [${label}]` : ''}`;
  const step = (ratePerSec: number, k: number): Promise<SystemResult> =>
    measureAt(st, system, cell, `${label} step ${k + 1}`.trim(), ratePerSec, { durationMs: plan.stepMs, warmupMs: plan.stepWarmupMs });
  return searchSustainable(plan, s.intervalMs, step, (line) => st.hooks.log?.(`${where}: ${line}`)).then((r) => {
    const found = r.sustainable?.sustainablePerSec;
    r.config.label = found ? label.replace('rate=sustainable', `rate=sustainable (${found}/s)`) : label;
    return r;
  });
}

/** One rate of one cell: a result, or a failed result, joins the scenario's; an interrupt ends it. */
async function runRate(st: ScenarioState, system: string, cell: PlannedCell, rate: Rate, round: number): Promise<void> {
  const s = st.run.scenario;
  let ratePerSec = 0;
  let label = s.rates.length > 1 || rate.kind !== 'max' ? `rate=${describeRate(rate)}` : '';
  try {
    if (rate.kind === 'fraction') {
      ratePerSec = Math.max(1, Math.round(rate.of * (await maximumFor(st, system, cell)).perSec));
      label = `rate=${Math.round(rate.of * 100)}% (${ratePerSec}/s)`;
    } else if (rate.kind === 'fixed') ratePerSec = rate.perSec;
    // warm-up runs at the schedule's first rate
    else if (rate.kind === 'schedule') ratePerSec = rate.schedule.segments[0]!.fromPerSec;
    label = [cell.label, label, s.repeat > 1 ? `#${round + 1}` : ''].filter(Boolean).join(' ');
    const schedule = rate.kind === 'schedule' ? { rateSchedule: rate.schedule } : {};
    // the run itself builds the backlog, not the search that found an N% rate's 100%;
    // its window ends when the drain does, so its planned length is the bound
    const backlog = backlogRun(s, ratePerSec);
    const bound = backlog ? { durationMs: backlog.maxBuildMs + backlog.maxDrainMs } : {};
    const result = rate.kind === 'sustainable' ? await searchFor(st, system, cell, label) : await measureAt(st, system, cell, label, ratePerSec, bound, { ...schedule, ...(backlog ? { backlog } : {}) });
    const probed = st.maxima.get(maximumKey(system, cell));
    if (probed !== undefined && rate.kind === 'fraction') {
      result.config.probeMaxMsgsPerSec = Math.round(probed.perSec);
      result.config.probe = probed.probe;
    }
    if (rate.kind === 'schedule') result.config.ratePerSec = describeRate(rate);
    if (cell.label) result.cell = cell.label;
    if (s.repeat > 1) result.repetition = round;
    st.systems.push(result);
  } catch (err) {
    if (err instanceof BusbenchError && err.code === 'INTERRUPTED') throw err;
    const failed = failedResult(system, label, st.run.adapters.get(system)!, cell.options, err);
    if (cell.label) failed.cell = cell.label;
    st.systems.push(failed);
  }
}

function resultOf(run: ScenarioRun, startedAt: string, systems: SystemResult[]): RunResult {
  // a shard's parameters are the whole run's; its SystemResult says which part it ran
  const s = run.shard?.whole ?? run.scenario;
  const firstRate: Rate = s.rates[0] ?? { kind: 'max' };
  return {
    schema: RESULT_SCHEMA,
    scenario: s.name,
    scenarioFile: s.file,
    startedAt,
    finishedAt: new Date().toISOString(),
    parameters: {
      systems: s.systems,
      mode: firstRate.kind === 'max' && s.rates.length === 1 ? 'closed' : 'open',
      rate: firstRate.kind === 'max' ? 'max' : firstRate.kind === 'fixed' ? firstRate.perSec : 0,
      rates: s.rates.map(describeRate),
      ...loadOf(s),
      ...(s.fault ? { fault: s.fault } : {}),
      ...(s.exactlyOnce ? { exactlyOnce: { ...s.exactlyOnce } } : {}),
      ...(s.backlog ? { backlog: { ...backlogTarget(s.backlog, s.messageSize), maxDrainMs: s.backlog.maxDrainMs, ...(s.backlog.maxBuildMs ? { maxBuildMs: s.backlog.maxBuildMs } : {}) } } : {}),
      brokers: run.brokers,
    },
    scenarioOptions: Object.fromEntries([...run.cells].map(([system, cells]) => [system, cells.map((c) => ({ cell: c.label, ...c.options }))])),
    environment: describeEnvironment(),
    systems,
    cells: summarizeCells(systems),
    ok: systems.every((x) => x.status === 'ok'),
  };
}

export async function runScenario(run: ScenarioRun, hooks: RunHooks): Promise<RunResult> {
  const s = run.scenario;
  const startedAt = new Date().toISOString();
  const st: ScenarioState = { run, hooks, systems: [], maxima: new Map<string, Maximum>(), index: 0 };
  const aborted = (): boolean => hooks.signal?.aborted === true;
  for (let round = 0; round < s.repeat && !aborted(); round++) {
    for (const system of s.systems) {
      for (const cell of interleave(run.cells.get(system)!, round)) {
        for (const rate of s.rates) {
          if (aborted()) break;
          await runRate(st, system, cell, rate, round);
        }
      }
    }
  }
  if (s.exactlyOnce) compareGuarantees(st.systems);
  return resultOf(run, startedAt, st.systems);
}

/**
 * The cost of exactly-once: each exactly-once result against the at-least-once result of
 * the same system, other settings, rate and repetition, measured in the same scenario run.
 */
export function compareGuarantees(systems: SystemResult[]): void {
  const keyOf = (r: SystemResult, g: string): string =>
    [r.system, (r.cell ?? '').replace(`guarantee=${g}`, ''), String(r.config.ratePerSec), String(r.repetition ?? 0)].join('\u0000');
  const baselines = new Map<string, SystemResult>();
  for (const r of systems) if (r.exactlyOnce?.guarantee === 'at-least-once' && r.status !== 'failed') baselines.set(keyOf(r, 'at-least-once'), r);
  for (const r of systems) {
    const eo = r.exactlyOnce;
    if (eo?.guarantee !== 'exactly-once' || r.status === 'failed') continue;
    const base = baselines.get(keyOf(r, 'exactly-once'));
    if (!base) continue;
    const ratio = (a: number, b: number): number | null => (a > 0 && b > 0 ? Math.round((a / b) * 1000) / 1000 : null);
    eo.costRatio = ratio(base.throughput.msgsPerSec, r.throughput.msgsPerSec);
    eo.costRatioP99 = ratio(r.latency.e2e.p99, base.latency.e2e.p99);
    eo.comparedWith = base.config.label as string;
  }
}
