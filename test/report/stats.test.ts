import { describe, expect, it } from 'vitest';
import { binomial, mannWhitneyGreater, median, midranks, smallestPossibleP } from '../../src/report/analysis/stats.ts';

describe('median and ranks', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('gives tied values the mean of their ranks', () => {
    expect(midranks([10, 20, 20, 30])).toEqual([1, 2.5, 2.5, 4]);
    expect(midranks([5, 5, 5])).toEqual([2, 2, 2]);
  });

  it('counts subsets', () => {
    expect(binomial(6, 3)).toBe(20);
    expect(binomial(15, 5)).toBe(3003);
    expect(binomial(3, 5)).toBe(0);
  });
});

describe('one-sided Mann–Whitney U', () => {
  it('matches R: wilcox.test(x, y, alternative = "greater") gives W = 35, p = 0.1272', () => {
    const x = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
    const y = [1.15, 0.88, 0.9, 0.74, 1.21];
    const r = mannWhitneyGreater(x, y);
    expect(r.u).toBe(35);
    expect(r.method).toBe('exact');
    expect(r.p).toBeCloseTo(0.1272, 4);
  });

  it('complete separation of 3 vs 3 gives the smallest possible p, 1/20', () => {
    expect(mannWhitneyGreater([4, 5, 6], [1, 2, 3]).p).toBeCloseTo(0.05, 12);
    expect(smallestPossibleP(3, 3)).toBeCloseTo(0.05, 12);
    expect(mannWhitneyGreater([1, 2, 3], [4, 5, 6]).p).toBe(1);
  });

  it('handles ties exactly: all values equal is no evidence at all', () => {
    expect(mannWhitneyGreater([7, 7, 7], [7, 7, 7]).p).toBe(1);
    // one tie across the samples: U counts it as 1/2
    const r = mannWhitneyGreater([2, 3, 4], [1, 2, 0]);
    expect(r.u).toBe(8.5);
    expect(r.p).toBeGreaterThan(0.05);
    expect(r.p).toBeLessThan(0.2);
  });

  it('uses the normal approximation for large samples, with sensible answers', () => {
    const a = Array.from({ length: 40 }, (_, i) => i + 100);
    const b = Array.from({ length: 40 }, (_, i) => i);
    const sep = mannWhitneyGreater(a, b);
    expect(sep.method).toBe('normal');
    expect(sep.p).toBeLessThan(1e-6);
    const mixed = mannWhitneyGreater(
      a.map((_, i) => (i % 2 ? i : i + 0.5)),
      b.map((_, i) => (i % 2 ? i + 0.5 : i)),
    );
    expect(mixed.p).toBeGreaterThan(0.2);
    expect(mixed.p).toBeLessThan(0.8);
  });

  it('an empty side proves nothing', () => {
    expect(mannWhitneyGreater([], [1, 2]).p).toBe(1);
    expect(smallestPossibleP(0, 5)).toBe(1);
  });
});
