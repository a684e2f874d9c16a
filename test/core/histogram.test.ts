import { describe, expect, it } from 'vitest';
import { LatencyRecorder, newHdr, countsIndex, valueFromIndex, encodeHdr, decodeHdr } from '../../src/core/histogram.ts';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('LatencyRecorder', () => {
  it('puts every value in the bucket HdrHistogram would', () => {
    const rnd = lcg(7);
    for (let i = 0; i < 20000; i++) {
      const v = Math.floor(rnd() ** 4 * 5e11);
      const idx = countsIndex(v);
      const back = valueFromIndex(idx);
      expect(back).toBeLessThanOrEqual(v);
      expect(valueFromIndex(idx + 1)).toBeGreaterThan(v);
      // the replayed value must be equivalent to v in HDR terms
      const a = newHdr();
      const b = newHdr();
      a.recordValue(v);
      b.recordValue(back);
      expect(b.getValueAtPercentile(100)).toBe(a.getValueAtPercentile(100));
    }
  });

  it('gives the same percentiles as recording directly', () => {
    const rnd = lcg(42);
    const rec = new LatencyRecorder();
    const direct = newHdr();
    for (let i = 0; i < 100000; i++) {
      const v = Math.floor(rnd() ** 6 * 1e10);
      rec.record(v);
      direct.recordValue(v);
    }
    const h = rec.toHdr();
    for (const p of [0, 50, 90, 99, 99.9, 99.99, 100]) expect(h.getValueAtPercentile(p)).toBe(direct.getValueAtPercentile(p));
    expect(h.totalCount).toBe(100000);
  });

  it('merges losslessly across workers (sparse form, encode/decode)', () => {
    const a = new LatencyRecorder();
    const b = new LatencyRecorder();
    const all = new LatencyRecorder();
    for (let i = 1; i <= 5000; i++) {
      a.record(i * 37);
      b.recordMany(i * 1013, 3);
      all.record(i * 37);
      all.recordMany(i * 1013, 3);
    }
    const merged = LatencyRecorder.fromSparse(a.toSparse());
    merged.add(LatencyRecorder.fromSparse(b.toSparse()));
    expect(merged.total).toBe(all.total);
    expect(Array.from(merged.counts)).toEqual(Array.from(all.counts));
    const decoded = decodeHdr(encodeHdr(merged.toHdr()));
    expect(decoded.totalCount).toBe(20000);
    expect(decoded.getValueAtPercentile(99)).toBe(all.toHdr().getValueAtPercentile(99));
  });

  it('counts clamped and negative values instead of hiding them', () => {
    const r = new LatencyRecorder();
    r.record(-5);
    r.record(1e13);
    expect(r.negative).toBe(1);
    expect(r.clamped).toBe(1);
    expect(r.total).toBe(2);
  });

  it('keeps the exact extremes, and no percentile exceeds the max', () => {
    const r = new LatencyRecorder();
    r.record(1_234_567);
    r.record(987_654_321);
    const s = LatencyRecorder.fromSparse(r.toSparse()).summary();
    expect(s.max).toBe(987654.32);
    expect(s.min).toBe(1234.57);
    expect(s.p9999).toBeLessThanOrEqual(s.max);
  });

  it('reports microseconds', () => {
    const r = new LatencyRecorder();
    r.recordMany(25_000, 100);
    const s = r.summary();
    expect(s.p50).toBeCloseTo(25, 0);
    expect(s.count).toBe(100);
  });
});
