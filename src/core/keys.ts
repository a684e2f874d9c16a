/**
 * Message keys, a workload field (`keys`, `keySpace`): which key each message carries, as
 * OpenMessaging Benchmark's KeyDistributorType does (NO_KEY, KEY_ROUND_ROBIN, RANDOM_NANO).
 *
 * A key is a function of (producer, sequence), not of a counter or a clock: a message
 * re-sent after a lost ack carries the key it had the first time (as an application's
 * key is a property of the message), and a consumer can tell the key of every message it
 * receives from its envelope alone, which is what checking order per key needs.
 */

import { ConfigError } from './errors.ts';

export type KeyDistribution = 'none' | 'round-robin' | 'random';
export const KEY_DISTRIBUTIONS: readonly KeyDistribution[] = ['none', 'round-robin', 'random'];

/** A type, not an interface, so that it structured-clones into a worker's init (Cloneable). */
export type KeyPlan = {
  distribution: KeyDistribution;
  /** distinct keys; 0 when distribution is none */
  space: number;
};

export const NO_KEYS: KeyPlan = { distribution: 'none', space: 0 };
/** OpenMessaging Benchmark draws from 10,000 keys; a smaller default keeps per-key checks cheap. */
export const DEFAULT_KEY_SPACE = 1000;
export const MAX_KEY_SPACE = 1_000_000;

/** 0..space-1 for a message, or -1 without keys. */
export function keyIndex(plan: KeyPlan, producerId: number, seq: number): number {
  if (plan.distribution === 'none') return -1;
  // round-robin: a producer's consecutive messages take consecutive keys, as a counter would
  if (plan.distribution === 'round-robin') return seq % plan.space;
  return mix32(producerId, seq) % plan.space;
}

/** The key's text: short, ASCII, distinct per index. */
export function keyText(index: number): string {
  return `k${index}`;
}

/**
 * A well-spread 32-bit hash of (producer, seq) (the finaliser of MurmurHash3): uniform
 * over the key space like a random draw, and the same for the same message.
 */
function mix32(producerId: number, seq: number): number {
  return fmix32(Math.imul(producerId + 1, 0x9e3779b1) ^ (seq >>> 0) ^ Math.imul(Math.floor(seq / 0x1_0000_0000), 0x85ebca6b));
}

/** MurmurHash3's 32-bit finaliser: every input bit reaches every output bit. Unsigned. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A system that cannot key messages yet refuses keys before the run (exit 2). */
export function refuseKeys(keys: KeyPlan | undefined, where: string, system: string): void {
  if (keys && keys.distribution !== 'none') throw new ConfigError(where, 'keys', `none for ${system} (keys: applies to pulsar and nats so far)`, keys.distribution);
}
