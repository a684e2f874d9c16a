/**
 * The `payload:` workload field: what the bytes after the envelope are. Without it every
 * message is the reference document's order message padded to messageSize (envelope.ts);
 * with it, each producer builds a pool of whole messages once, before the run (envelope,
 * body, body checksum), and the run cycles through the pool, stamping only the envelope's
 * per-message fields in place. So a payload costs nothing to generate on the hot path,
 * and the pool's memory is bounded (POOL_BYTES, or the file's bodies).
 *
 * Sizes are whole message sizes, envelope included, as messageSize is: at least
 * MIN_MESSAGE_SIZE. A range draws each pool message's size from a seeded distribution;
 * the pool's draws are what the run cycles through.
 */
import fs from 'node:fs';
import { BODY_OFFSET, MAX_MESSAGE_SIZE, MIN_MESSAGE_SIZE, TRAILER_BYTES, encodeHeader, sealBody } from './envelope.ts';

export type SizeDistribution = 'uniform' | 'lognormal';
export const SIZE_DISTRIBUTIONS: readonly SizeDistribution[] = ['uniform', 'lognormal'];

/** How consumers check bodies: every message, every SAMPLE_EVERY-th sequence, or never. */
export type PayloadVerify = 'all' | 'sampled' | 'off';
export const PAYLOAD_VERIFY: readonly PayloadVerify[] = ['all', 'sampled', 'off'];
export const SAMPLE_EVERY = 16;

/** Types, not interfaces: they structured-clone into the workers' load settings. */
export type PayloadSize = { kind: 'fixed'; bytes: number } | { kind: 'range'; min: number; max: number; distribution: SizeDistribution };

export type PayloadPlan = {
  /** absent with `file` */
  size?: PayloadSize;
  /** share of each body (0..1) that is incompressible random bytes; the rest is compressible filler */
  randomBytes: number;
  /** bodies read from this file, one per line (payloadBodies), cycled */
  file?: string;
  seed: number;
  verify: PayloadVerify;
};

/** A producer's pool aims at this many bytes: enough distinct bodies that a compressor's window does not see them repeat soon. */
export const POOL_BYTES = 8 << 20;
const POOL_MAX_MESSAGES = 65_536;
/** A payload file larger than this is refused: every producer holds its bodies. */
export const MAX_PAYLOAD_FILE_BYTES = 64 << 20;
/** The longest body a message can carry. */
export const MAX_BODY_BYTES = MAX_MESSAGE_SIZE - MIN_MESSAGE_SIZE;

/** mulberry32: a small, fast seeded generator of uint32s; plenty for sizes and filler. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Each producer draws its own sequence from the run's seed. */
export function producerSeed(seed: number, producerId: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(producerId + 1, 0xc2b2ae35)) >>> 0;
}

/**
 * Lognormal over a range: the median is the range's geometric middle and the range spans
 * ±3σ in log space, so 0.27% of draws fall outside and are clamped to its ends.
 */
export function lognormalParams(min: number, max: number): { mu: number; sigma: number } {
  return { mu: (Math.log(min) + Math.log(max)) / 2, sigma: (Math.log(max) - Math.log(min)) / 6 };
}

/** The distribution's mean message size (before clamping, for lognormal): what a pool's mean approaches. */
export function meanSize(size: PayloadSize): number {
  if (size.kind === 'fixed') return size.bytes;
  if (size.distribution === 'uniform') return (size.min + size.max) / 2;
  const { mu, sigma } = lognormalParams(size.min, size.max);
  return Math.exp(mu + (sigma * sigma) / 2);
}

/** Draws message sizes, whole bytes within the size's bounds. */
export function sizeSampler(size: PayloadSize, random: () => number): () => number {
  if (size.kind === 'fixed') return () => size.bytes;
  const { min, max } = size;
  const unit = (): number => (random() + 0.5) / 4294967296; // (0, 1)
  if (size.distribution === 'uniform') return () => min + Math.floor(unit() * (max - min + 1));
  const { mu, sigma } = lognormalParams(min, max);
  return () => {
    // Box-Muller: one normal draw from two uniforms
    const z = Math.sqrt(-2 * Math.log(unit())) * Math.cos(2 * Math.PI * unit());
    return Math.min(max, Math.max(min, Math.round(Math.exp(mu + sigma * z))));
  };
}

/**
 * A payload file's bodies: one per line (LF; a CR before it is kept as body bytes), the
 * final newline optional, empty lines skipped. Bodies are bytes, not necessarily text or
 * JSON; a body cannot hold a newline.
 */
export function payloadBodies(text: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i < text.length && text[i] !== 0x0a) continue;
    if (i > start) out.push(text.subarray(start, i));
    start = i + 1;
  }
  return out;
}

export function readPayloadFile(file: string): Uint8Array[] {
  return payloadBodies(new Uint8Array(fs.readFileSync(file)));
}

/** The largest message a plan makes (what a system's size limits must hold). */
export function largestMessage(plan: PayloadPlan, bodies?: readonly Uint8Array[]): number {
  if (plan.size) return plan.size.kind === 'fixed' ? plan.size.bytes : plan.size.max;
  return MIN_MESSAGE_SIZE + Math.max(0, ...(bodies ?? []).map((b) => b.length));
}

/** Filler that compresses like text: it is JSON-string-safe, so a body without random bytes keeps the message JSON. */
const FILLER = new TextEncoder().encode('order book level bid 64250.50 ask 64251.00 qty 0.125 BTC-USDT; ');

function fillBody(buf: Uint8Array, from: number, to: number, randomShare: number, random: () => number): void {
  const randomEnd = from + Math.round((to - from) * randomShare);
  let i = from;
  for (; i + 4 <= randomEnd; i += 4) {
    const r = random();
    buf[i] = r;
    buf[i + 1] = r >>> 8;
    buf[i + 2] = r >>> 16;
    buf[i + 3] = r >>> 24;
  }
  for (; i < randomEnd; i++) buf[i] = random();
  for (let k = 0; i < to; i++, k++) buf[i] = FILLER[k % FILLER.length]!;
}

/**
 * Whole messages laid end to end: message k is bytes[offsets[k], offsets[k+1]); runEnd[k]
 * is the first message after k whose size differs (messages k..runEnd[k]-1 are alike), so
 * a batch goes out as few equal-size sends as its sizes allow.
 */
export interface PayloadPool {
  bytes: Uint8Array;
  offsets: Uint32Array;
  runEnd: Uint32Array;
  count: number;
}

/** The sizes of a pool of at least `minMessages` (a producer's batch) messages. */
function poolSizes(plan: PayloadPlan, producerId: number, minMessages: number, bodies: readonly Uint8Array[]): number[] {
  if (!plan.size) {
    const rounds = Math.max(1, Math.ceil(minMessages / bodies.length));
    return Array.from({ length: rounds * bodies.length }, (_, k) => MIN_MESSAGE_SIZE + bodies[k % bodies.length]!.length);
  }
  const draw = sizeSampler(plan.size, seededRandom(producerSeed(plan.seed, producerId) ^ 0x5a5a5a5a));
  const count = Math.max(minMessages, Math.min(POOL_MAX_MESSAGES, Math.floor(POOL_BYTES / largestMessage(plan))));
  return Array.from({ length: count }, draw);
}

/** Builds one producer's pool: envelopes with its id, bodies, each body's checksum sealed in. */
export function buildPool(plan: PayloadPlan, producerId: number, minMessages: number, bodies: readonly Uint8Array[] = []): PayloadPool {
  if (!plan.size && bodies.length === 0) throw new RangeError('payload: a file plan needs its bodies');
  const sizes = poolSizes(plan, producerId, minMessages, bodies);
  const count = sizes.length;
  const offsets = new Uint32Array(count + 1);
  for (let k = 0; k < count; k++) offsets[k + 1] = offsets[k]! + sizes[k]!;
  const bytes = new Uint8Array(offsets[count]!);
  const header = encodeHeader(producerId);
  const random = seededRandom(producerSeed(plan.seed, producerId));
  for (let k = 0; k < count; k++) {
    const off = offsets[k]!;
    const end = offsets[k + 1]!;
    bytes.set(header, off);
    const bodyEnd = end - TRAILER_BYTES.length;
    if (plan.size) fillBody(bytes, off + BODY_OFFSET, bodyEnd, plan.randomBytes, random);
    else bytes.set(bodies[k % bodies.length]!, off + BODY_OFFSET);
    bytes.set(TRAILER_BYTES, bodyEnd);
    sealBody(bytes, off, end - off);
  }
  const runEnd = new Uint32Array(count);
  for (let k = count - 1; k >= 0; k--) runEnd[k] = k + 1 < count && sizes[k + 1] === sizes[k] ? runEnd[k + 1]! : k + 1;
  return { bytes, offsets, runEnd, count };
}

/** Whether a consumer checks the body of sequence `seq`. */
export function verifies(mode: PayloadVerify, seq: number): boolean {
  return mode === 'all' || (mode === 'sampled' && seq % SAMPLE_EVERY === 0);
}
