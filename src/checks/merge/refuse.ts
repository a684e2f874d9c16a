/**
 * What merge refuses, each with one line naming the file and the value (exit 2): a file
 * that is not a shard's result, shards of different scenarios or runs, producer ids two
 * shards both claim, a missing or repeated shard, and measured windows that do not
 * overlap. Only a set of shards that can add up to one run is merged.
 */
import { UsageError } from '../../core/errors.ts';
import type { RunResult, SystemResult } from '../../core/result.ts';
import type { ShardInfo, ShardLedger } from '../../core/shard.ts';

export interface ShardInput {
  file: string;
  result: RunResult;
  /** the text of the shard's interval log (.hlog), when found beside its result */
  hlog?: string;
}

export interface ShardOf {
  file: string;
  result: RunResult;
  system: SystemResult & { shard: ShardInfo; ledger: ShardLedger };
  hlog?: string;
}

/** shards whose common window is shorter than this share of the shortest window do not overlap enough */
export const MIN_OVERLAP = 0.9;

function shardOf(input: ShardInput): ShardOf {
  const { file, result } = input;
  const systems = Array.isArray(result.systems) ? result.systems : [];
  const s = systems[0];
  if (systems.length !== 1 || !s) throw new UsageError(`${file}: ${systems.length} system results; a shard's result has exactly one`);
  if (s.status === 'failed') throw new UsageError(`${file}: the shard's run failed (${s.error ?? 'no reason given'}); nothing to merge`);
  if (!s.shard || !s.ledger) throw new UsageError(`${file}: not a shard's result (no shard section); merge takes the results of bench --shard i/N`);
  return { file, result, system: s as ShardOf['system'], ...(input.hlog !== undefined ? { hlog: input.hlog } : {}) };
}

/** The fields that say which run a shard belongs to; all shards must agree on every one. */
function runIdentity(x: ShardOf): Array<[string, unknown]> {
  const sh = x.system.shard;
  return [
    ['scenario', x.result.scenario],
    ['scenario file', x.result.scenarioFile],
    ['system', x.system.system],
    ['parameters', x.result.parameters],
    ['system options', x.result.scenarioOptions],
    ['shard count', sh.count],
    ['--start-at', sh.startAt],
  ];
}

function checkSameRun(shards: ShardOf[]): void {
  const first = shards[0]!;
  const want = runIdentity(first);
  for (const x of shards.slice(1)) {
    runIdentity(x).forEach(([field, v], i) => {
      const a = JSON.stringify(want[i]![1]);
      const b = JSON.stringify(v);
      if (a !== b) throw new UsageError(`${x.file}: a different run from ${first.file}: ${field} ${short(b)} vs ${short(a)}; merge takes the shards of one run`);
    });
  }
}

const short = (s: string): string => (s.length > 80 ? `${s.slice(0, 77)}...` : s);

/** Producer ids as each shard claims them (its range and its ledger's), never two shards the same id. */
function checkProducerIds(shards: ShardOf[]): void {
  const owner = new Map<number, string>();
  for (const x of shards) {
    const { producerIdFrom: from, producers } = x.system.shard;
    const ids = new Set<number>();
    for (let id = from; id < from + producers; id++) ids.add(id);
    for (const p of x.system.ledger.producers) {
      if (!ids.has(p.producerId)) throw new UsageError(`${x.file}: ledger producer ${p.producerId} outside the shard's ids ${from}..${from + producers - 1}`);
    }
    for (const id of ids) {
      const other = owner.get(id);
      if (other !== undefined) throw new UsageError(`${x.file}: producer ids ${from}..${from + producers - 1} overlap those of ${other} (producer ${id}); each shard must have its own`);
      owner.set(id, x.file);
    }
  }
}

function checkComplete(shards: ShardOf[]): void {
  const count = shards[0]!.system.shard.count;
  const seen = new Map<number, string>();
  for (const x of shards) {
    const i = x.system.shard.index;
    if (seen.has(i)) throw new UsageError(`${x.file}: shard ${i}/${count} given twice (also ${seen.get(i)})`);
    seen.set(i, x.file);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length > 0) throw new UsageError(`shards ${missing.map((i) => `${i}/${count}`).join(', ')} missing: merge needs all ${count} shards of the run, got ${shards.length}`);
}

/** The common measured window, ms since the epoch; refused when the shards' windows barely overlap. */
function commonWindow(shards: ShardOf[]): { startMs: number; endMs: number } {
  const w = shards.map((x) => ({ file: x.file, from: x.system.shard.windowStartEpochMs, to: x.system.shard.windowEndEpochMs }));
  const startMs = Math.max(...w.map((x) => x.from));
  const endMs = Math.min(...w.map((x) => x.to));
  const shortest = w.reduce((a, b) => (b.to - b.from < a.to - a.from ? b : a));
  if (endMs - startMs < MIN_OVERLAP * (shortest.to - shortest.from)) {
    const latest = w.find((x) => x.from === startMs)!;
    const earliest = w.find((x) => x.to === endMs)!;
    const iso = (ms: number): string => new Date(ms).toISOString();
    throw new UsageError(
      `${latest.file}: measured window ${iso(latest.from)}..${iso(latest.to)} does not overlap that of ${earliest.file} (${iso(earliest.from)}..${iso(earliest.to)}) by ${MIN_OVERLAP * 100}% of the shortest; merge takes shards that ran at the same time`,
    );
  }
  return { startMs, endMs };
}

/** The shards in index order and their common window, or the one-line refusal. */
export function checkShards(inputs: ShardInput[]): { shards: ShardOf[]; window: { startMs: number; endMs: number } } {
  if (inputs.length === 0) throw new UsageError('merge needs the result files of every shard of one run');
  const shards = inputs.map(shardOf);
  checkSameRun(shards);
  checkProducerIds(shards);
  checkComplete(shards);
  const window = commonWindow(shards);
  return { shards: shards.sort((a, b) => a.system.shard.index - b.system.shard.index), window };
}
