/**
 * Per-topic and per-partition counts of a merged run. Every shard runs its own streams
 * or topics (one per workload topic, and each with the run's partitions), so a merged
 * topic's or partition's counts are the shards' counts of it added, broker counts too
 * where every shard has them.
 */
import type { PartitionCounts, PartitionsResult, SystemResult, TopicCounts, TopicsResult } from '../../core/result.ts';

type Share = { sent: number; acked: number; received: number; ackedLost?: number; brokerStored?: number; brokerDelivered?: number };

const BROKER = ['brokerStored', 'brokerDelivered'] as const;

function addShares<T extends Share>(lists: T[][], keyOf: (c: T) => number): T[] {
  const byKey = new Map<number, T[]>();
  for (const list of lists) {
    for (const c of list) {
      const parts = byKey.get(keyOf(c));
      if (parts) parts.push(c);
      else byKey.set(keyOf(c), [c]);
    }
  }
  return [...byKey.keys()]
    .sort((a, b) => a - b)
    .map((k) => {
      const parts = byKey.get(k)!;
      const sum = (f: keyof Share): number => parts.reduce((a, c) => a + (c[f] ?? 0), 0);
      const out = { ...parts[0]!, sent: sum('sent'), acked: sum('acked'), received: sum('received') };
      if (out.ackedLost !== undefined) out.ackedLost = sum('ackedLost');
      for (const f of BROKER) {
        if (parts.length === lists.length && parts.every((c) => c[f] !== undefined)) out[f] = sum(f);
        else delete out[f];
      }
      return out;
    });
}

/** null when any shard's verdict is null (not judged), else whether all are true */
const allOf = (v: Array<boolean | null>): boolean | null => (v.some((x) => x === null) ? null : v.every((x) => x));

/** Every shard's result, or undefined when any shard has none. */
function ofEveryShard<R>(each: Array<R | undefined>): R[] | undefined {
  return each.some((r) => r === undefined) ? undefined : (each as R[]);
}

/** What topics and partitions merge alike: the counts by key, the agreement, the note. */
function mergeCounts<T extends Share>(rs: Array<{ counts: T[]; agrees: boolean | null; note: string }>, keyOf: (c: T) => number, what: string): { counts: T[]; agrees: boolean | null; note: string } {
  return {
    counts: addShares(rs.map((r) => r.counts), keyOf),
    agrees: allOf(rs.map((r) => r.agrees)),
    note: `each ${what}'s counts added over the ${rs.length} shards (each ran its own); shard 0: ${rs[0]!.note}`,
  };
}

export function mergedTopics(systems: SystemResult[]): TopicsResult | undefined {
  const ts = ofEveryShard(systems.map((s) => s.topics));
  if (!ts) return undefined;
  const m = mergeCounts<TopicCounts>(ts, (c) => c.topic, 'topic');
  return { counts: m.counts, consistent: ts.every((t) => t.consistent), agrees: m.agrees, note: m.note };
}

export function mergedPartitions(systems: SystemResult[]): PartitionsResult | undefined {
  const ps = ofEveryShard(systems.map((s) => s.partitions));
  return ps && mergeCounts<PartitionCounts>(ps, (c) => c.partition, 'partition');
}
