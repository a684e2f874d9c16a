/**
 * Sharded runs: `--shard i/N --start-at <ISO time>` makes this process shard i of N of
 * one scenario, and `--processes N` runs N such shards here and merges them. The
 * scenario's producers, consumers and rate are the whole run's: each shard runs 1/N of
 * them, so the merged result reads like the scenario as written. Every refusal is one
 * line naming the value and what is valid (exit 2), before anything starts.
 */
import { UsageError } from '../core/errors.ts';
import type { Scenario } from './scenario.ts';
import { unspreadTopics } from '../core/topics.ts';

/** a start this far in the past is still taken (the message intended first is sent that late) */
export const START_GRACE_MS = 1000;
/** a start further ahead is refused: a typo in the date, not a plan */
export const START_MAX_AHEAD_MS = 3_600_000;
export const MAX_SHARDS = 64;

export interface ShardSpec {
  /** 0-based */
  index: number;
  count: number;
  /** as given */
  startAt: string;
  startEpochMs: number;
}

export function shardFlag(v: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || count > MAX_SHARDS || index >= count) throw new UsageError(`--shard ${v}: expected <index>/<count> with 0 <= index < count <= ${MAX_SHARDS}, e.g. 0/3`);
  return { index, count };
}

export function processesFlag(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > MAX_SHARDS) throw new UsageError(`--processes ${v}: expected an integer from 1 to ${MAX_SHARDS}`);
  return n;
}

/** An ISO 8601 time with a zone, not in the past beyond the grace, not more than an hour ahead. */
export function startAtFlag(v: string, nowMs = Date.now()): number {
  const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) throw new UsageError(`--start-at ${v}: expected an ISO 8601 time with a zone, e.g. 2026-12-02T07:30:00Z`);
  if (ms < nowMs - START_GRACE_MS) throw new UsageError(`--start-at ${v}: ${((nowMs - ms) / 1000).toFixed(1)} s in the past; expected a time from now (grace ${START_GRACE_MS} ms) to ${START_MAX_AHEAD_MS / 60_000} min ahead`);
  if (ms > nowMs + START_MAX_AHEAD_MS) throw new UsageError(`--start-at ${v}: ${((ms - nowMs) / 60_000).toFixed(1)} min ahead; expected at most ${START_MAX_AHEAD_MS / 60_000} min ahead`);
  return ms;
}

/**
 * A shard runs one measured run whose window the others share: one system, one rate that
 * needs no probe or search, no matrix, no repetition, no fault (external brokers cannot
 * be killed), not the exactly-once scenario (its accounts are keyed by producer ids, which
 * a shard numbers from 0), and producers and consumers that N divides. Its broker is
 * external; `local` (--processes) may also start one native broker the shards share
 * (whether the system can is the adapter's to say: SystemAdapter.startSharedBroker).
 */
export function checkShardable(s: Scenario, count: number, brokers: string, flag: string, local = false): void {
  const refuse = (what: string): never => {
    throw new UsageError(`${flag}: ${what}`);
  };
  if (brokers !== 'external' && !(local && brokers === 'native')) {
    refuse(`needs --brokers external${local ? ' or native' : ''} (every shard connects to the same broker), got --brokers ${brokers}`);
  }
  if (s.systems.length !== 1) refuse(`runs one system, the scenario has ${s.systems.join(', ')}; pick one with --systems`);
  if (s.rates.length !== 1) refuse(`runs one rate, the scenario has ${s.rates.length}; pick one with --rate`);
  const kind = s.rates[0]!.kind;
  if (kind === 'fraction' || kind === 'sustainable') refuse(`rate ${kind === 'fraction' ? 'N%' : 'sustainable'} needs a probe or a search that shards cannot share; expected max, a fixed rate or a schedule`);
  if (Object.keys(s.matrix).length > 0) refuse('a scenario with a matrix runs several cells; shards run one');
  if (s.repeat !== 1) refuse(`repeat ${s.repeat}: shards run once`);
  if (s.fault) refuse('a fault needs a broker busbench controls; shards run against external brokers');
  if (s.exactlyOnce) refuse('the exactly-once scenario cannot be sharded yet');
  if (s.producers % count !== 0) refuse(`producers ${s.producers} is not a multiple of ${count} shards`);
  if (s.consumers % count !== 0) refuse(`consumers ${s.consumers} is not a multiple of ${count} shards`);
  // each shard spreads its own share over the topics: refused here, before any shard starts
  const unspread = unspreadTopics(s.producers / count, s.consumers / count, s.topics);
  if (unspread) refuse(`each of ${count} shards spreads its own producers and consumers over all ${s.topics} topics, and a shard has ${unspread}`);
}

/**
 * The part of the scenario one of `count` shards runs: 1/count of its producers and
 * consumers. Its rate stays the whole run's here, so labels and parameters read as the
 * scenario does; the engine gives each shard's run 1/count of it (harness/shard-run.ts).
 */
export function shardScenario(s: Scenario, count: number): Scenario {
  return { ...s, producers: s.producers / count, consumers: s.consumers / count };
}
