/**
 * A shard's run (--shard i/N): its clock anchored at the common start, and what its result
 * carries for the merge. The wall clock is read once, at the start, and mapped onto the
 * monotonic clock every other time in the run is read from; a wall-clock step later in
 * the run moves nothing.
 */
import { monoNs } from '../core/clock.ts';
import { BusbenchError } from '../core/errors.ts';
import type { ShardInfo, ShardLedger } from '../core/shard.ts';
import { compactLedger } from '../checks/shard-ledger.ts';
import { START_GRACE_MS } from '../scenario/shard.ts';
import type { ConsumerTotals, ProducerTotals } from './collect.ts';
import type { RunContext } from './run-context.ts';
import type { RunSpec } from './runner.ts';

/** Where a run sits among the shards of one scenario. */
export interface RunShard {
  index: number;
  count: number;
  /** --start-at as given */
  startAt: string;
  startEpochMs: number;
}

/** The run's start on the wall clock and on the monotonic clock, fixed once. */
export interface WallAnchor {
  startNs: number;
  startEpochMs: number;
  lateMs: number;
}

/**
 * The monotonic time of the common start, plus this shard's phase at a fixed rate: shard
 * i's messages fall i/R after the whole run's slots, so N shards at R/N each send on the
 * single-process schedule of R. A start already past by more than the grace (the system
 * took that long to open) fails the run rather than sending a burst of late messages.
 */
export function anchoredStart(spec: RunSpec, shard: RunShard): WallAnchor {
  const now = monoNs();
  const wall = Date.now();
  const phaseMs = spec.ratePerSec > 0 ? (shard.index * 1000) / (spec.ratePerSec * shard.count) : 0;
  const startEpochMs = shard.startEpochMs + phaseMs;
  const lateMs = wall - startEpochMs;
  if (lateMs > START_GRACE_MS) {
    throw new BusbenchError('ADAPTER', `shard ${shard.index}/${shard.count}: --start-at ${shard.startAt} passed ${Math.round(lateMs)} ms before the workers were ready (grace ${START_GRACE_MS} ms); give a later start`);
  }
  return { startNs: now - lateMs * 1e6, startEpochMs, lateMs: Math.max(0, Math.round(lateMs * 1000) / 1000) };
}

/** A shard's run offers 1/count of the whole run's rate (or schedule); closed loop stays closed. */
export function shardPart(spec: RunSpec): RunSpec {
  const n = spec.shard?.count ?? 1;
  if (n === 1) return spec;
  const schedule = spec.rateSchedule;
  return {
    ...spec,
    ratePerSec: spec.ratePerSec / n,
    ...(schedule ? { rateSchedule: { ...schedule, segments: schedule.segments.map((g) => ({ ...g, fromPerSec: g.fromPerSec / n, toPerSec: g.toPerSec / n })) } } : {}),
  };
}

/** The result's shard section and its ledgers, ids offset into the whole run's. */
export function shardSection(run: RunContext, p: ProducerTotals, c: ConsumerTotals): { shard: ShardInfo; ledger: ShardLedger } | undefined {
  const { spec, anchor } = run;
  if (!spec.shard || !anchor) return undefined;
  const { producers, consumers } = spec.load;
  const { measureStartNs, measureEndNs } = run.control.timeline();
  const epochOf = (ns: number): number => Math.round((anchor.startEpochMs + (ns - anchor.startNs) / 1e6) * 1000) / 1000;
  const shard: ShardInfo = {
    index: spec.shard.index,
    count: spec.shard.count,
    startAt: spec.shard.startAt,
    producerIdFrom: spec.shard.index * producers,
    producers,
    consumerIdFrom: spec.shard.index * consumers,
    consumers,
    windowStartEpochMs: epochOf(measureStartNs),
    windowEndEpochMs: epochOf(measureEndNs),
    startLateMs: anchor.lateMs,
  };
  const ledger = compactLedger({ producers: p.reports, consumers: c.reports, discards: c.discarded, publishMissed: p.publishMissedBy }, shard.producerIdFrom, shard.consumerIdFrom);
  return { shard, ledger };
}
