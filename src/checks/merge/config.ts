/**
 * The merged result's config: what every shard ran with, once, and what each ran on its
 * own (its stream, subject and durable, or its topic: a shard's run has them to itself)
 * as the list of the shards' values in shard order, so the merged result names every
 * stream it measured, not shard 0's alone. `mergedFrom` names the shard files.
 */
import type { ShardOf } from './refuse.ts';

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function mergedConfig(shards: readonly ShardOf[]): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const keys = new Set(shards.flatMap((x) => Object.keys(x.system.config)));
  for (const k of keys) {
    const values = shards.map((x) => x.system.config[k]);
    config[k] = values.every((v) => same(v, values[0])) ? values[0] : values;
  }
  return { ...config, shards: shards.length, mergedFrom: shards.map((x) => x.file) };
}
