import { describe, expect, it } from 'vitest';
import { compareResults, judgeRuns } from '../../src/report/analysis/compare.ts';
import type { LoadedResult } from '../../src/report/io/inputs.ts';
import { metricByName } from '../../src/report/analysis/metrics.ts';
import { estimate } from '../../src/report/analysis/noise.ts';
import type { Run } from '../../src/report/analysis/series.ts';
import { loaded, rng, runResult, systemResult, type SystemSpec } from './fixtures.ts';

function run(spec: SystemSpec): Run {
  const result = runResult([systemResult(spec)]);
  return { file: 'x.json', fileIndex: 0, result, system: result.systems[0]! };
}

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
  const opts = { alpha: 0.05, floor: 0.05 };

  it('compares the systems present in both, per metric, and lists the rest', () => {
    const a = loaded(runResult([systemResult({ system: 'ringbuffer', seed: 1, p50Us: 50 }), systemResult({ system: 'nats', seed: 2, p50Us: 500 })]), 'a.json');
    const b = loaded(runResult([systemResult({ system: 'ringbuffer', seed: 3, p50Us: 100 }), systemResult({ system: 'pulsar', seed: 4 })]), 'b.json');
    const cmp = compareResults([a], [b], ['throughput', 'p50', 'p99'].map(metricByName), opts);
    expect(cmp.rows.map((r) => `${r.series} ${r.metric}`)).toEqual(['ringbuffer msg/s', 'ringbuffer p50', 'ringbuffer p99']);
    expect(cmp.rows[1]!.change).toBeGreaterThan(0.8);
    expect(cmp.onlyInA).toEqual(['nats']);
    expect(cmp.onlyInB).toEqual(['pulsar']);
    expect(cmp.method).toMatch(/two-sided exact Mann–Whitney U test on the per-run values at alpha 0\.05: on unchanged code at most 5% of rows are called significant/);
  });

  it('one run per side is "not enough runs", however large the change and however many samples each run holds', () => {
    const one = (p50Us: number, seed: number) => loaded(runResult([systemResult({ system: 'ringbuffer', seed, p50Us, samples: 50_000 })]));
    const cmp = compareResults([one(100, 1)], [one(1000, 2)], [metricByName('p50'), metricByName('throughput')], opts);
    expect(cmp.rows.map((r) => [r.verdict, r.p])).toEqual([
      ['not enough runs', null],
      ['not enough runs', null],
    ]);
    expect(cmp.rows[0]!.a.source).toBe('histogram'); // the interval is still shown, it just decides nothing
    expect(cmp.runsNeeded).toBe(4);
  });

  it('3 vs 3 cannot reach a two-sided 0.05 (p ≥ 2/20); 4 vs 4 can (2/70)', () => {
    expect(judgeRuns([1, 2, 3], [10, 11, 12], opts)).toEqual({ verdict: 'not enough runs', p: null });
    const four = judgeRuns([1, 2, 3, 4], [10, 11, 12, 13], opts);
    expect(four.verdict).toBe('significant');
    expect(four.p).toBeCloseTo(2 / 70, 12);
    expect(judgeRuns([100, 100.5, 101, 101.5], [102, 102.5, 103, 103.5], opts).verdict).toBe('below floor'); // 2% < 5% floor
    expect(judgeRuns([1, 5, 3, 7], [2, 6, 4, 8], opts).verdict).toBe('within noise');
  });

  it('uses repetitions inside files as runs', () => {
    const reps = (seeds: number[], p50s: number[]) => loaded(runResult(seeds.map((seed, i) => systemResult({ system: 'ringbuffer', seed, p50Us: p50s[i]!, repetition: i, samples: 3000 }))));
    const same = compareResults([reps([1, 2, 3, 4], [100, 150, 120, 130])], [reps([5, 6, 7, 8], [140, 110, 130, 125])], [metricByName('p50')], opts);
    expect(same.rows[0]!.a.n).toBe(4);
    expect(same.rows[0]!.verdict).toBe('within noise');
    const slower = compareResults([reps([1, 2, 3, 4], [100, 110, 105, 95])], [reps([5, 6, 7, 8], [200, 210, 190, 205])], [metricByName('p50')], opts);
    expect(slower.rows[0]!.verdict).toBe('significant');
    expect(slower.rows[0]!.direction).toBe('worse');
  });
});

/**
 * A/A: both sides drawn from one distribution, so every "significant" is a false
 * positive. The runs are real-shaped result documents whose p99 and throughput are set
 * per run; compareResults sees them exactly as it sees files.
 */
describe('A/A: false-positive rate of compare', () => {
  const template = systemResult({ system: 'nats', samples: 200, intervals: 2 });
  const doc = (p99: number[], tput: number[]): LoadedResult =>
    loaded(
      runResult(
        p99.map((v, i) => ({
          ...template,
          repetition: i,
          latency: { ...template.latency, e2e: { ...template.latency.e2e, p99: v } },
          throughput: { ...template.throughput, msgsPerSec: tput[i]! },
        })),
      ),
    );
  const metrics = [metricByName('p99'), metricByName('throughput')];
  // floor 0: the test alone decides, so what is measured is the test's own error rate
  const testOnly = { alpha: 0.05, floor: 0 };

  function gaussian(rnd: () => number): number {
    return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  }
  type Draw = (rnd: () => number, center: number, cv: number) => number;
  const normal: Draw = (rnd, center, cv) => center * (1 + cv * gaussian(rnd));
  // skewed: lognormal with sigma = cv, the shape of run-to-run latency
  const lognormal: Draw = (rnd, center, cv) => center * Math.exp(cv * gaussian(rnd));

  function flagRate(draw: Draw, n: number, trials: number, seed: number, shift = 1): { rate: number; rows: number; verdicts: Set<string> } {
    const rnd = rng(seed);
    let flagged = 0;
    const verdicts = new Set<string>();
    for (let t = 0; t < trials; t++) {
      const cv = 0.05 + 0.07 * rnd(); // 5–12% spread
      const side = (k: number) => Array.from({ length: n }, () => draw(rnd, 1000 * k, cv));
      const cmp = compareResults([doc(side(1), side(50))], [doc(side(shift), side(50 / shift))], metrics, testOnly);
      for (const r of cmp.rows) {
        verdicts.add(r.verdict);
        if (r.verdict === 'significant') flagged++;
      }
    }
    return { rate: flagged / (2 * trials), rows: 2 * trials, verdicts };
  }

  const TRIALS = 2000;
  // 4000 rows per case. If the true rate were exactly 5%, the observed rate would exceed
  // 5% + 3.09·√(0.05·0.95/4000) = 6.07% with probability 0.1% (normal approximation to
  // the binomial): a pass below it is not luck, a failure above it is not noise.
  const MARGIN = 3.09 * Math.sqrt((0.05 * 0.95) / (2 * TRIALS));

  it.each([
    ['normal', 2, normal],
    ['lognormal', 2, lognormal],
    ['normal', 3, normal],
    ['lognormal', 3, lognormal],
  ] as const)('%s, %i runs per side: never flags, says "not enough runs"', (_name, n, draw) => {
    const r = flagRate(draw, n, TRIALS, 100 + n);
    expect(r.rate).toBe(0);
    expect([...r.verdicts]).toEqual(['not enough runs']);
  });

  it.each([
    ['normal', 11, normal],
    ['lognormal', 12, lognormal],
  ] as const)('%s (seed %i), 5 runs per side: flags at most 5% + the binomial margin', (_name, seed, draw) => {
    const r = flagRate(draw, 5, TRIALS, seed);
    expect(MARGIN).toBeCloseTo(0.01065, 4);
    expect(r.rate).toBeLessThanOrEqual(0.05 + MARGIN);
    expect(r.verdicts.has('within noise')).toBe(true);
  });

  it('power: a real shift at 5 vs 5 runs with 5–12% spread is flagged', () => {
    for (const draw of [normal, lognormal]) {
      expect(flagRate(draw, 5, 500, 7, 2).rate).toBe(1); // 2x: every row
      expect(flagRate(draw, 5, 500, 8, 1.5).rate).toBeGreaterThanOrEqual(0.99); // +50%: nearly every row
    }
  });
});
