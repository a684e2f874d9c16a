import { describe, expect, it } from 'vitest';
import { BODY_OFFSET, MIN_MESSAGE_SIZE, bodyChecksum, bodyIntact, readProducer, readSeq, readSentNs, stampAt } from '../../src/core/envelope.ts';
import { POOL_BYTES, buildPool, meanSize, payloadBodies, seededRandom, sizeSampler, verifies, type PayloadPlan, type PayloadSize } from '../../src/core/payload.ts';

const draws = (size: PayloadSize, n: number, seed = 7): number[] => {
  const draw = sizeSampler(size, seededRandom(seed));
  return Array.from({ length: n }, draw);
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('payload sizes', () => {
  it('a fixed size is that size', () => {
    expect(new Set(draws({ kind: 'fixed', bytes: 777 }, 100))).toEqual(new Set([777]));
  });

  // 20,000 draws: the sample mean's standard error is ~0.3% of the mean for these ranges, so 2% is > 6 standard errors
  it('uniform: within bounds, reaching both ends, mean within 2% of (min+max)/2, the same for the same seed', () => {
    const size: PayloadSize = { kind: 'range', min: 300, max: 2000, distribution: 'uniform' };
    const xs = draws(size, 20_000);
    expect(Math.min(...xs)).toBe(300);
    expect(Math.max(...xs)).toBe(2000);
    expect(xs.every(Number.isInteger)).toBe(true);
    expect(Math.abs(mean(xs) - meanSize(size)) / meanSize(size)).toBeLessThan(0.02);
    expect(draws(size, 50)).toEqual(draws(size, 50));
    expect(draws(size, 50, 8)).not.toEqual(draws(size, 50));
  });

  it('lognormal: within bounds, median near the geometric middle, mean within 2% of exp(mu + sigma^2/2)', () => {
    const size: PayloadSize = { kind: 'range', min: 300, max: 30_000, distribution: 'lognormal' };
    const xs = draws(size, 20_000);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(300);
    expect(Math.max(...xs)).toBeLessThanOrEqual(30_000);
    const sorted = [...xs].sort((a, b) => a - b);
    expect(Math.abs(sorted[10_000]! - 3000) / 3000).toBeLessThan(0.05);
    expect(Math.abs(mean(xs) - meanSize(size)) / meanSize(size)).toBeLessThan(0.02);
    // skewed: the mean sits above the median
    expect(mean(xs)).toBeGreaterThan(sorted[10_000]!);
  });
});

describe('checksum', () => {
  it('changes with any flipped byte, bit by bit, and with the length', () => {
    const buf = new Uint8Array(301).map((_, i) => (i * 31) & 0xff);
    const sum = bodyChecksum(buf, 0, buf.length);
    for (let i = 0; i < buf.length; i++) {
      for (const bit of [0x01, 0x80]) {
        buf[i]! ^= bit;
        expect(bodyChecksum(buf, 0, buf.length)).not.toBe(sum);
        buf[i]! ^= bit;
      }
    }
    expect(bodyChecksum(buf, 0, buf.length)).toBe(sum);
    expect(bodyChecksum(buf, 0, buf.length - 1)).not.toBe(sum);
  });
});

const plan = (over: Partial<PayloadPlan>): PayloadPlan => ({ randomBytes: 0, seed: 1, verify: 'sampled', ...over });

describe('payload pool', () => {
  it('builds whole messages: envelope first, bodies sealed, sizes as drawn, bounded in bytes', () => {
    const pool = buildPool(plan({ size: { kind: 'range', min: 300, max: 4000, distribution: 'uniform' } }), 3, 128);
    expect(pool.count).toBe(Math.floor(POOL_BYTES / 4000));
    expect(pool.bytes.length).toBeLessThanOrEqual(POOL_BYTES);
    for (let k = 0; k < pool.count; k++) {
      const off = pool.offsets[k]!;
      const len = pool.offsets[k + 1]! - off;
      expect(len).toBeGreaterThanOrEqual(300);
      expect(len).toBeLessThanOrEqual(4000);
      expect(readProducer(pool.bytes, off)).toBe(3);
      expect(bodyIntact(pool.bytes, off, len)).toBe(true);
      expect(pool.runEnd[k]!).toBeGreaterThan(k);
    }
    // without random bytes a stamped message is still JSON
    stampAt(pool.bytes, pool.offsets, 0, 1, 5, 6, 7);
    const first = new TextDecoder().decode(pool.bytes.subarray(0, pool.offsets[1]));
    expect(JSON.parse(first)).toMatchObject({ producer: 3, symbol: 'BTC-USDT' });
  });

  it('stamping the envelope keeps the body intact; a flipped body byte is caught', () => {
    const pool = buildPool(plan({ size: { kind: 'fixed', bytes: 1000 }, randomBytes: 0.5 }), 0, 64);
    expect(pool.runEnd[0]).toBe(pool.count); // one size: one run
    const sent = new Float64Array([11, 22, 33]);
    stampAt(pool.bytes, pool.offsets, 5, 3, 900, sent, Date.now());
    for (let i = 0; i < 3; i++) {
      const off = pool.offsets[5 + i]!;
      expect(readSeq(pool.bytes, off)).toBe(900 + i);
      expect(readSentNs(pool.bytes, off)).toBe(sent[i]);
      expect(bodyIntact(pool.bytes, off, 1000)).toBe(true);
    }
    pool.bytes[pool.offsets[6]! + BODY_OFFSET + 100]! ^= 0x10;
    expect(bodyIntact(pool.bytes, pool.offsets[6]!, 1000)).toBe(false);
  });

  it('randomBytes: the random share does not compress, the filler does', async () => {
    const { deflateSync } = await import('node:zlib');
    const ratio = (share: number): number => {
      const pool = buildPool(plan({ size: { kind: 'fixed', bytes: 4096 }, randomBytes: share }), 0, 16);
      return deflateSync(pool.bytes).length / pool.bytes.length;
    };
    expect(ratio(0)).toBeLessThan(0.1);
    expect(ratio(1)).toBeGreaterThan(0.95);
    const half = ratio(0.5);
    expect(half).toBeGreaterThan(0.45);
    expect(half).toBeLessThan(0.6);
  });

  it('each producer draws its own bodies from the seed; the same seed builds the same pool', () => {
    const p = plan({ size: { kind: 'range', min: 300, max: 900, distribution: 'lognormal' }, randomBytes: 1 });
    const a = buildPool(p, 0, 64);
    // Buffer.equals: vitest's toEqual walks 8 MiB element by element
    expect(Buffer.from(buildPool(p, 0, 64).bytes).equals(Buffer.from(a.bytes))).toBe(true);
    expect(Buffer.from(buildPool(p, 1, 64).offsets.buffer).equals(Buffer.from(a.offsets.buffer))).toBe(false);
  });

  it('file bodies: one per line, cycled, at least a batch of messages', () => {
    const bodies = payloadBodies(new TextEncoder().encode('alpha\n\nbeta-beta\r\ngamma'));
    expect(bodies.map((b) => new TextDecoder().decode(b))).toEqual(['alpha', 'beta-beta\r', 'gamma']);
    const pool = buildPool(plan({ file: 'x' }), 2, 7, bodies);
    expect(pool.count).toBe(9);
    const sizes = Array.from({ length: pool.count }, (_, k) => pool.offsets[k + 1]! - pool.offsets[k]!);
    expect(sizes).toEqual([5, 10, 5, 5, 10, 5, 5, 10, 5].map((n) => MIN_MESSAGE_SIZE + n));
    const text = new TextDecoder().decode(pool.bytes.subarray(pool.offsets[1]!, pool.offsets[2]!));
    expect(text.slice(BODY_OFFSET)).toBe('beta-beta\r"}');
  });

  it('verify: all, every 16th sequence, or none', () => {
    expect([0, 1, 15, 16].map((s) => verifies('sampled', s))).toEqual([true, false, false, true]);
    expect([0, 1].map((s) => verifies('all', s))).toEqual([true, true]);
    expect(verifies('off', 0)).toBe(false);
  });
});
