import { describe, expect, it } from 'vitest';
import { compareResults } from '../../src/report/compare.ts';
import { metricByName } from '../../src/report/metrics.ts';
import { estimate, judge, type Estimate } from '../../src/report/noise.ts';
import type { Run } from '../../src/report/series.ts';
import { loaded, runResult, systemResult, type SystemSpec } from './fixtures.ts';

const est = (value: number, lo: number, hi: number): Estimate => ({ value, lo, hi, n: 2, source: 'repetitions' });

function run(spec: SystemSpec): Run {
  const result = runResult([systemResult(spec)]);
  return { file: 'x.json', fileIndex: 0, result, system: result.systems[0]! };
}

describe('significant or within noise', () => {
  it('needs disjoint intervals AND a change above the noise floor', () => {
    expect(judge(est(100, 90, 110), est(105, 95, 115), 0.05)).toBe('within noise'); // overlap
    expect(judge(est(100, 99, 101), est(103, 102, 104), 0.05)).toBe('within noise'); // disjoint, 3% < floor
    expect(judge(est(100, 99, 101), est(120, 118, 122), 0.05)).toBe('significant');
    expect(judge(est(100, 99, 101), est(80, 78, 82), 0.05)).toBe('significant');
    expect(judge(est(100, 99, 101), est(120, 118, 122), 0.25)).toBe('within noise');
  });
});

describe('noise estimates', () => {
  it('several runs: the median and the min–max of the runs', () => {
    const runs = [1, 2, 3].map((seed) => run({ system: 'ringbuffer', seed, p50Us: 100 * seed, samples: 2000 }));
    const e = estimate(runs, metricByName('p50'))!;
    expect(e.source).toBe('repetitions');
    expect(e.n).toBe(3);
    expect(e.lo).toBeLessThan(e.value);
    expect(e.hi).toBeGreaterThan(e.value);
    expect(e.value).toBe(runs[1]!.system.latency.e2e.p50);
  });

  it('one run, a percentile: an order-statistics interval from the histogram that narrows with more samples', () => {
    const small = estimate([run({ system: 'r', samples: 500 })], metricByName('p99'))!;
    const large = estimate([run({ system: 'r', samples: 50_000 })], metricByName('p99'))!;
    for (const e of [small, large]) {
      expect(e.source).toBe('histogram');
      expect(e.lo).toBeLessThanOrEqual(e.value);
      expect(e.hi).toBeGreaterThanOrEqual(e.value);
    }
    expect((large.hi - large.lo) / large.value).toBeLessThan((small.hi - small.lo) / small.value);
  });

  it('one run, throughput: from the spread of its measured intervals; max: the point', () => {
    const r = run({ system: 'r', msgsPerSec: 10_000, intervals: 10 });
    const t = estimate([r], metricByName('throughput'))!;
    expect(t.source).toBe('intervals');
    expect(t.lo).toBeLessThan(10_000);
    expect(t.hi).toBeGreaterThan(10_000);
    const m = estimate([r], metricByName('max'))!;
    expect(m.source).toBe('point');
    expect(m.lo).toBe(m.hi);
  });
});

describe('compareResults', () => {
  it('compares the systems present in both, per metric, and lists the rest', () => {
    const a = loaded(runResult([systemResult({ system: 'ringbuffer', seed: 1, p50Us: 50 }), systemResult({ system: 'nats', seed: 2, p50Us: 500 })]), 'a.json');
    const b = loaded(runResult([systemResult({ system: 'ringbuffer', seed: 3, p50Us: 100 }), systemResult({ system: 'pulsar', seed: 4 })]), 'b.json');
    const cmp = compareResults([a], [b], ['throughput', 'p50', 'p99'].map(metricByName), { floor: 0.05, singleRun: 0.25 });
    expect(cmp.rows.map((r) => `${r.series} ${r.metric}`)).toEqual(['ringbuffer msg/s', 'ringbuffer p50', 'ringbuffer p99']);
    const p50 = cmp.rows[1]!;
    expect(p50.change).toBeGreaterThan(0.8);
    expect(p50.verdict).toBe('significant');
    expect(p50.direction).toBe('worse');
    expect(cmp.rows[0]!.verdict).toBe('within noise'); // same throughput
    expect(cmp.rows[1]!.floor).toBe(0.25); // single runs
    expect(cmp.onlyInA).toEqual(['nats']);
    expect(cmp.onlyInB).toEqual(['pulsar']);
  });

  it('uses repetitions when files have them: overlapping runs are within noise', () => {
    const reps = (seeds: number[], p50s: number[]) => loaded(runResult(seeds.map((seed, i) => systemResult({ system: 'ringbuffer', seed, p50Us: p50s[i]!, repetition: i, samples: 3000 }))));
    const cmp = compareResults([reps([1, 2, 3], [100, 150, 120])], [reps([4, 5, 6], [140, 110, 130])], [metricByName('p50')], { floor: 0.05, singleRun: 0.25 });
    expect(cmp.rows[0]!.a.source).toBe('repetitions');
    expect(cmp.rows[0]!.verdict).toBe('within noise');
    expect(cmp.rows[0]!.floor).toBe(0.05);
  });

  it('single runs need a change beyond the single-run floor', () => {
    const one = (p50Us: number, seed: number) => loaded(runResult([systemResult({ system: 'ringbuffer', seed, p50Us, samples: 50_000 })]));
    const m = [metricByName('p50')];
    const floors = { floor: 0.05, singleRun: 0.25 };
    expect(compareResults([one(100, 1)], [one(115, 2)], m, floors).rows[0]!.verdict).toBe('within noise');
    expect(compareResults([one(100, 1)], [one(140, 2)], m, floors).rows[0]!.verdict).toBe('significant');
    expect(compareResults([one(100, 1)], [one(115, 2)], m, { floor: 0.05, singleRun: 0 }).rows[0]!.verdict).toBe('significant');
  });
});
