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
  for (const list of lists) for (const c of list) byKey.set(keyOf(c), [...(byKey.get(keyOf(c)) ?? []), c]);
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

export function mergedTopics(systems: SystemResult[]): TopicsResult | undefined {
  const each = systems.map((s) => s.topics);
  if (each.some((t) => t === undefined)) return undefined;
  const ts = each as TopicsResult[];
  return {
    counts: addShares<TopicCounts>(ts.map((t) => t.counts), (c) => c.topic),
    consistent: ts.every((t) => t.consistent),
    agrees: allOf(ts.map((t) => t.agrees)),
    note: `each topic's counts added over the ${ts.length} shards (each ran its own); shard 0: ${ts[0]!.note}`,
  };
}

export function mergedPartitions(systems: SystemResult[]): PartitionsResult | undefined {
  const each = systems.map((s) => s.partitions);
  if (each.some((p) => p === undefined)) return undefined;
  const ps = each as PartitionsResult[];
  return {
    counts: addShares<PartitionCounts>(ps.map((p) => p.counts), (c) => c.partition),
    agrees: allOf(ps.map((p) => p.agrees)),
    note: `each partition's counts added over the ${ps.length} shards (each ran its own); shard 0: ${ps[0]!.note}`,
  };
}
