/**
 * Shards merged into one result, as if one process had run every producer and consumer:
 * histograms added bucket for bucket, ledgers united by producer id, throughput over the
 * common measured window, intervals aligned on the wall clock, and every verdict
 * recomputed from the merged ledgers (a shard's own status says nothing of the whole).
 * Pure: the CLI reads the files and writes the result.
 */
import type { DeliveryCounts, IntervalStats, LatencyErrors, RunResources, RunResult, ScheduleResult, SystemResult } from '../../core/result.ts';
import { reconcile, type ConsumerLedgerSnapshot, type ProducerLedgerSnapshot } from '../ledger.ts';
import { expandLedger } from '../shard-ledger.ts';
import { heldNote, lateAckNote, latencyProblems, statusOf } from '../verdict.ts';
import { scheduleProblems } from '../schedule.ts';
import { withCrossCheck } from '../cross-check.ts';
import { mergedConfig } from './config.ts';
import { mergeKind } from './histograms.ts';
import { hlogStartEpochMs, mergeIntervals, type IntervalHistograms } from './intervals.ts';
import { checkShards, type ShardInput, type ShardOf } from './refuse.ts';
import { mergedPartitions, mergedTopics } from './shares.ts';

export type { ShardInput };
export { MIN_OVERLAP } from './refuse.ts';

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/**
 * The delivery verdict of the whole run, from every shard's ledgers together: `problems`
 * decide the status, `notes` stand beside them (as a single process's judge has them).
 */
function deliveryOf(shards: ShardOf[]): { counts: DeliveryCounts; problems: string[]; notes: string[] } {
  const producers: ProducerLedgerSnapshot[] = [];
  const consumers: ConsumerLedgerSnapshot[] = [];
  const discards: Array<{ entries: number; reasons: string[] }> = [];
  const publishMissed = new Map<number, number>();
  for (const x of shards) {
    const parts = expandLedger(x.system.ledger);
    producers.push(...parts.producers);
    consumers.push(...parts.consumers);
    discards.push(...(parts.discards ?? []));
    for (const [id, n] of parts.publishMissed ?? []) publishMissed.set(id, n);
  }
  const verdict = reconcile(producers, consumers, discards);
  const held = shards.map((x) => x.system.delivery.undeliveredAtDeadline).filter((v): v is number => v !== undefined);
  const counts: DeliveryCounts = { ...verdict.counts, ...(held.length > 0 ? { undeliveredAtDeadline: sum(held) } : {}) };
  // the findings a single process's judge adds beside the ledger's, from the united ledgers
  const notes = [heldNote(counts), lateAckNote(sum([...publishMissed.values()]))].filter((n): n is string => n !== undefined);
  return { counts, problems: verdict.problems, notes };
}

/** Each shard's broker judged its own stream; the whole run agrees when every shard's does. */
function brokerOf(shards: ShardOf[]): SystemResult['broker'] {
  const bs = shards.map((x) => x.system.broker);
  if (bs.some((b) => b === undefined)) return undefined;
  const all = bs as NonNullable<SystemResult['broker']>[];
  const total = (k: 'stored' | 'delivered'): number | undefined => (all.every((b) => b[k] !== undefined) ? sum(all.map((b) => b[k]!)) : undefined);
  const agrees = all.some((b) => b.agrees === false) ? false : all.every((b) => b.agrees === true) ? true : null;
  const stored = total('stored');
  const delivered = total('delivered');
  return {
    source: `${all[0]!.source}, summed over ${all.length} shards`,
    ...(stored !== undefined ? { stored } : {}),
    ...(delivered !== undefined ? { delivered } : {}),
    agrees,
    note: all.map((b, i) => `shard ${i}: ${b.note ?? (b.agrees === null ? 'not judged' : b.agrees ? 'agrees' : 'disagrees')}`).join('; '),
  };
}

/**
 * The schedule's figures add. Kept when every shard kept it and nothing is unsent: the
 * shards share one rule (its batch allowance is P/N producers at R/N, the whole run's),
 * and the p99 of the merged send delays cannot exceed the largest shard's p99.
 */
function scheduleOf(shards: ShardOf[], sendDelayP99Us: number | null): ScheduleResult | undefined {
  const ss = shards.map((x) => x.system.schedule);
  if (ss.some((s) => s === undefined)) return undefined;
  const all = ss as ScheduleResult[];
  const unsent = sum(all.map((s) => s.unsent));
  const kept = all.every((s) => s.kept) && unsent <= 0 && sendDelayP99Us !== null;
  return {
    intendedPerSec: sum(all.map((s) => s.intendedPerSec)),
    achievedPerSec: sum(all.map((s) => s.achievedPerSec)),
    intended: sum(all.map((s) => s.intended)),
    sent: sum(all.map((s) => s.sent)),
    unsent,
    sendDelayP99Us,
    kept,
    rule: all[0]!.rule,
  };
}

function latencyErrorsOf(shards: ShardOf[]): Record<string, LatencyErrors> {
  const out: Record<string, LatencyErrors> = {};
  for (const x of shards) {
    for (const [k, e] of Object.entries(x.system.latencyErrors ?? {})) {
      const t = (out[k] ??= { clamped: 0, negative: 0 });
      t.clamped += e.clamped;
      t.negative += e.negative;
    }
  }
  return out;
}

/** The shards' costs added: every shard is a process of its own. */
function resourcesOf(shards: ShardOf[], messages: number): RunResources {
  const rs = shards.map((x) => x.system.resources);
  const cpu = sum(rs.map((r) => r?.busbench.cpuSec ?? 0));
  const rss = sum(rs.map((r) => r?.busbench.peakRssBytes ?? 0));
  const windows = rs.map((r) => r?.window);
  const windowCpu = windows.every((w) => w !== undefined) ? Math.round(sum(windows.map((w) => w!.cpuSec)) * 1000) / 1000 : undefined;
  return {
    busbench: { cpuSec: Math.round(cpu * 1000) / 1000, peakRssBytes: rss },
    brokers: 'not measured',
    ...(windowCpu !== undefined ? { window: { cpuSec: windowCpu, messages } } : {}),
    cpuSecPerMillion: windowCpu !== undefined && messages > 0 ? Math.round((windowCpu / messages) * 1e9) / 1000 : null,
  };
}

type Kind = 'e2e' | 'publish' | 'redelivery' | 'sendDelay';

function latenciesOf(shards: ShardOf[]): { latency: SystemResult['latency']; histograms: SystemResult['histograms'] } {
  const kinds: Kind[] = ['e2e', 'publish', 'redelivery', 'sendDelay'];
  const latency: Partial<SystemResult['latency']> = {};
  const histograms: Partial<Record<Kind, string>> = {};
  for (const k of kinds) {
    if (k !== 'e2e' && k !== 'publish' && shards.some((x) => x.system.histograms[k] === undefined)) continue;
    const m = mergeKind(shards.map((x) => x.system.histograms[k]), shards.map((x) => x.system.latency[k]));
    latency[k] = m.summary;
    histograms[k] = m.encoded;
  }
  return { latency: latency as SystemResult['latency'], histograms: { ...(histograms as Record<'e2e' | 'publish', string>), unit: 'ns' } };
}

/**
 * Each shard's rate over its own window, added: the windows start together (one anchor)
 * and merge refuses shards whose windows do not overlap, so this is the rate of the
 * common window without counting any shard's messages twice.
 */
function throughputOf(shards: ShardOf[], messageSize: number, windowMs: number): SystemResult['throughput'] {
  const msgsPerSec = sum(shards.map((x) => x.system.throughput.msgsPerSec));
  const repeats = shards.map((x) => x.system.throughput.repeatsInWindow);
  // With a payload distribution each shard counted the bytes it received; the nominal
  // size times the rate would be a figure no shard measured.
  const bytes = shards.map((x) => x.system.throughput.messageBytes);
  const messageBytes = bytes.every((b) => b !== undefined) ? sum(bytes as number[]) : undefined;
  return {
    msgsPerSec,
    bytesPerSec: messageBytes ?? msgsPerSec * messageSize,
    ...(messageBytes !== undefined ? { messageBytes } : {}),
    measuredMs: windowMs,
    receivedInWindow: sum(shards.map((x) => x.system.throughput.receivedInWindow)),
    ...(repeats.every((r) => r !== undefined) ? { repeatsInWindow: sum(repeats as number[]) } : {}),
  };
}

/**
 * The shards' intervals on one grid, and their summed histograms as the merged run's
 * interval log, timed from the earliest shard's log start (the others' lines are shifted
 * by their whole intervals after it).
 */
function intervalsOf(shards: ShardOf[], params: RunResult['parameters']): { intervals: IntervalStats[]; intervalLog?: MergedIntervalLog } {
  const earliest = Math.min(...shards.map((x) => x.system.shard.windowStartEpochMs));
  const merged = mergeIntervals(
    shards.map((x) => ({
      intervals: x.system.intervals,
      offset: Math.round((x.system.shard.windowStartEpochMs - earliest) / params.intervalMs),
      warmupMs: params.warmupMs,
      ...(x.hlog !== undefined ? { hlog: x.hlog } : {}),
    })),
    params.intervalMs,
  );
  if (merged.histograms.size === 0) return { intervals: merged.rows };
  const first = shards.find((x) => x.system.shard.windowStartEpochMs === earliest)!;
  const startEpochMs = (first.hlog !== undefined ? hlogStartEpochMs(first.hlog) : undefined) ?? earliest - params.warmupMs;
  return { intervals: merged.rows, intervalLog: { startEpochMs, warmupMs: params.warmupMs, histograms: merged.histograms } };
}

function systemOf(shards: ShardOf[], window: { startMs: number; endMs: number }): { system: SystemResult; intervalLog?: MergedIntervalLog } {
  const first = shards[0]!;
  const params = first.result.parameters;
  const delivery = deliveryOf(shards);
  const { latency, histograms } = latenciesOf(shards);
  const schedule = scheduleOf(shards, latency.sendDelay && latency.sendDelay.count > 0 ? latency.sendDelay.p99 : null);
  const latencyErrors = latencyErrorsOf(shards);
  const broker = brokerOf(shards);
  const throughput = throughputOf(shards, params.messageSize, window.endMs - window.startMs);
  const { intervals, intervalLog } = intervalsOf(shards, params);
  const problems = [...delivery.problems, ...delivery.notes, ...(schedule ? scheduleProblems(schedule) : []), ...latencyProblems(latencyErrors)];
  const status = withCrossCheck(statusOf(delivery.problems.length === 0, undefined, undefined), broker);
  const resources = resourcesOf(shards, throughput.receivedInWindow);
  const topics = mergedTopics(shards.map((x) => x.system));
  const partitions = mergedPartitions(shards.map((x) => x.system));
  const system: SystemResult = {
    system: first.system.system,
    config: mergedConfig(shards),
    capabilities: first.system.capabilities,
    status,
    ...(problems.length > 0 ? { error: problems.join('; ') } : {}),
    throughput,
    latency,
    delivery: delivery.counts,
    ...(broker ? { broker } : {}),
    ...(partitions ? { partitions } : {}),
    ...(topics ? { topics } : {}),
    intervals,
    histograms,
    ...(schedule ? { schedule } : {}),
    latencyErrors,
    peakRssBytes: resources.busbench.peakRssBytes,
    resources,
  };
  return { system, ...(intervalLog ? { intervalLog } : {}) };
}

/** The merged run's interval log, for the CLI to write beside its result (report/io/shard-files.ts). */
export interface MergedIntervalLog {
  /** wall-clock time its timestamps count from: the earliest shard's interval 0 (warm-up) start */
  startEpochMs: number;
  warmupMs: number;
  histograms: IntervalHistograms;
}

export interface MergedRun {
  result: RunResult;
  /** absent when a shard's interval log was not found beside its result */
  intervalLog?: MergedIntervalLog;
}

/** One result from the shards of one run, or the one-line refusal (UsageError, exit 2). */
export function mergeShards(inputs: ShardInput[]): MergedRun {
  const { shards, window } = checkShards(inputs);
  const first = shards[0]!.result;
  const hosts = [...new Set(shards.map((x) => x.result.environment.hostname))];
  const { system, intervalLog } = systemOf(shards, window);
  const result: RunResult = {
    schema: first.schema,
    scenario: first.scenario,
    scenarioFile: first.scenarioFile,
    startedAt: shards.map((x) => x.result.startedAt).sort()[0]!,
    finishedAt: shards.map((x) => x.result.finishedAt).sort().at(-1)!,
    parameters: first.parameters,
    scenarioOptions: first.scenarioOptions,
    environment: { ...first.environment, hostname: hosts.join(',') },
    systems: [system],
    // the CLI fills the cell summary (the scenario layer's)
    cells: [],
    ok: system.status === 'ok',
    merged: {
      shards: shards.length,
      files: shards.map((x) => x.file),
      windowStartEpochMs: window.startMs,
      windowEndEpochMs: window.endMs,
      maxStartLateMs: Math.max(...shards.map((x) => x.system.shard.startLateMs)),
    },
  };
  return { result, ...(intervalLog ? { intervalLog } : {}) };
}
