import { describe, expect, it } from 'vitest';
import type { SystemResult } from '../../src/core/result.ts';
import { decide, runGate } from '../../src/report/analysis/gate.ts';
import type { LoadedResult } from '../../src/report/io/inputs.ts';
import { holmAdjust } from '../../src/report/analysis/stats.ts';
import { metricByName } from '../../src/report/analysis/metrics.ts';
import { rng, loaded, runResult, systemResult } from './fixtures.ts';

const p99 = metricByName('p99');
const throughput = metricByName('throughput');
const opts = { maxRegression: 0.1, alpha: 0.05 };

/** n per-run values around `center` with ±spread/2 relative run-to-run noise. */
function runs(rnd: () => number, n: number, center: number, spread: number): number[] {
  return Array.from({ length: n }, () => center * (1 + spread * (rnd() - 0.5)));
}

describe('gate decision (per-run values)', () => {
  it('same code: over 2000 simulated comparisons of 5 vs 5 noisy runs, false alarms stay at or below alpha', () => {
    const rnd = rng(11);
    const trials = 2000;
    let fails = 0;
    for (let t = 0; t < trials; t++) if (decide(runs(rnd, 5, 1000, 0.6), runs(rnd, 5, 1000, 0.6), p99, opts).status === 'fail') fails++;
    // alpha plus three standard errors of a rate measured over `trials` comparisons
    expect(fails / trials).toBeLessThan(0.05 + 3 * Math.sqrt((0.05 * 0.95) / trials));
  });

  it('same code with run-to-run noise far below the threshold never fails', () => {
    const rnd = rng(13);
    for (let t = 0; t < 200; t++) expect(decide(runs(rnd, 5, 1000, 0.1), runs(rnd, 5, 1000, 0.1), p99, opts).status).toBe('pass');
  });

  it('a 2x slowdown fails every time, even with ±30% run-to-run noise', () => {
    const rnd = rng(12);
    for (let t = 0; t < 200; t++) {
      const d = decide(runs(rnd, 5, 1000, 0.6), runs(rnd, 5, 2000, 0.6), p99, opts);
      expect(d.status).toBe('fail');
      expect(d.rule).toBe('mann-whitney');
    }
  });

  it('needs both: significant but small shifts pass, large but noisy shifts pass', () => {
    const small = decide([100, 101, 102, 103], [105, 106, 107, 108], p99, opts);
    expect(small.p).toBeLessThan(0.05);
    expect(small.status).toBe('pass');
    expect(small.reason).toMatch(/within the 10.0% allowed/);
    const noisy = decide([100, 400, 120], [130, 390, 900], p99, opts);
    expect(noisy.worse).toBeGreaterThan(0.1);
    expect(noisy.status).toBe('pass');
    expect(noisy.reason).toMatch(/not significant/);
  });

  it('throughput regresses downwards', () => {
    expect(decide([1000, 1010, 990], [500, 505, 495], throughput, opts).status).toBe('fail');
    expect(decide([1000, 1010, 990], [2000, 2010, 1990], throughput, opts).status).toBe('pass');
    expect(decide([1000, 1010, 990], [500, 505, 495], throughput, opts).worse).toBeCloseTo(0.5, 2);
  });

  it('with too few runs for the test it says so and needs every pair worse by more than max(threshold, 25%)', () => {
    const one = decide([100], [250], p99, opts);
    expect(one.rule).toBe('fallback');
    expect(one.status).toBe('fail');
    expect(one.reason).toMatch(/too few runs/);
    const overlap = decide([100, 200], [150, 300], p99, opts);
    expect(overlap.rule).toBe('fallback');
    expect(overlap.status).toBe('pass');
    expect(decide([100], [120], p99, opts).status).toBe('pass'); // 20% > 10% threshold, but within the single-run floor
    expect(decide([100], [120], p99, { ...opts, singleRunFloor: 0 }).status).toBe('fail');
    expect(decide([100], [140], p99, { ...opts, maxRegression: 0.5 }).status).toBe('pass');
  });

  it('no current data fails; no baseline data is reported as not gated', () => {
    const noCurrent = decide([100, 110, 120], [], p99, opts);
    expect(noCurrent.status).toBe('fail');
    expect(noCurrent.reason).toMatch(/no current data/);
    expect(decide([], [100, 110, 120], p99, opts).status).toBe('missing');
  });

  it('a Holm-adjusted p above alpha passes a row whose own p is below it', () => {
    const base = [100, 101, 102, 103, 104];
    const slow = [200, 201, 202, 203, 204];
    expect(decide(base, slow, p99, opts).status).toBe('fail');
    const adjusted = decide(base, slow, p99, opts, 0.06);
    expect(adjusted.p).toBeCloseTo(1 / 252, 6);
    expect(adjusted.status).toBe('pass');
    expect(adjusted.reason).toMatch(/not significant \(p=0\.004, Holm 0\.060 > 0\.05\), though the median moved 98\.0%/);
  });
});

describe('gate over result files', () => {
  const file = (systems: SystemResult[], name: string, workUs = 0) => loaded(runResult(systems, { workUs }), name);
  const ring = (seed: number, scale = 1, extra: Partial<Parameters<typeof systemResult>[0]> = {}) => systemResult({ system: 'ringbuffer', p50Us: 50, seed, scale, samples: 5000, ...extra });

  it('three baseline files vs three current files: same code passes, 2x slower fails and says how much', () => {
    const base = [1, 2, 3].map((s) => file([ring(s)], `b${s}.json`));
    const same = [4, 5, 6].map((s) => file([ring(s)], `c${s}.json`));
    const slow = [7, 8, 9].map((s) => file([ring(s, 2)], `s${s}.json`, 50));
    const pass = runGate(base, same, { metrics: [p99], ...opts });
    expect(pass.failed).toBe(false);
    expect(pass.findings).toHaveLength(1);
    const fail = runGate(base, slow, { metrics: [p99], ...opts });
    expect(fail.failed).toBe(true);
    expect(fail.findings[0]!.worse).toBeGreaterThan(0.8);
    expect(fail.findings[0]!.worse).toBeLessThan(1.2);
    expect(fail.warnings.join('\n')).toMatch(/parameter workUs differs: baseline 0, current 50/);
  });

  it('repetitions inside one file count as runs', () => {
    const base = file([0, 1, 2].map((r) => ring(r + 1, 1, { repetition: r })), 'base.json');
    const slow = file([0, 1, 2].map((r) => ring(r + 10, 2, { repetition: r })), 'cur.json');
    const report = runGate([base], [slow], { metrics: [p99], ...opts });
    expect(report.findings[0]!.baseline).toHaveLength(3);
    expect(report.findings[0]!.rule).toBe('mann-whitney');
    expect(report.failed).toBe(true);
  });

  it('reads the alternative layout: one SystemResult carrying arrays of repetition values', () => {
    const withReps = (values: number[]): SystemResult => Object.assign(ring(1), { repetitions: { p99: values, msgsPerSec: values.map(() => 1000) } });
    const report = runGate([file([withReps([100, 105, 98])], 'a.json')], [file([withReps([210, 220, 205])], 'b.json')], { metrics: [p99], ...opts });
    expect(report.findings[0]!.baseline).toEqual([100, 105, 98]);
    expect(report.failed).toBe(true);
  });

  it('keeps matrix cells apart: only the cell that regressed fails', () => {
    const cells = (seed: number, slowCell: boolean) => [
      systemResult({ system: 'nats', cell: 'storage=file', p50Us: 500, seed, samples: 3000, scale: slowCell ? 2 : 1 }),
      systemResult({ system: 'nats', cell: 'storage=memory', p50Us: 200, seed: seed + 50, samples: 3000 }),
    ];
    // 5 runs a side: two tests under Holm need p ≤ 0.025 first, which 3 + 3 runs cannot give
    const base = [1, 2, 3, 4, 5].map((s) => file(cells(s, false), `b${s}.json`));
    const cur = [6, 7, 8, 9, 10].map((s) => file(cells(s, true), `c${s}.json`));
    const report = runGate(base, cur, { metrics: [p99], ...opts });
    const byCell = Object.fromEntries(report.findings.map((f) => [f.series, f.status]));
    expect(byCell).toEqual({ 'nats [storage=file]': 'fail', 'nats [storage=memory]': 'pass' });
    expect(report.family).toBe(2);
  });

  it('can restrict systems', () => {
    const base = [1, 2, 3].map((s) => file([ring(s), systemResult({ system: 'nats', seed: s, samples: 2000 })], `b${s}.json`));
    const cur = [4, 5, 6].map((s) => file([ring(s), systemResult({ system: 'nats', seed: s, samples: 2000, status: 'failed', error: 'boom' })], `c${s}.json`));
    const only = runGate(base, cur, { metrics: [p99], ...opts, systems: ['ringbuffer'] });
    expect(only.findings.map((f) => f.series)).toEqual(['ringbuffer']);
    expect(only.problems).toEqual([]);
    expect(only.failed).toBe(false);
  });

  it('says when nothing matches', () => {
    const empty = file([], 'empty.json');
    const report = runGate([empty], [file([ring(1)], 'b.json')], { metrics: [p99], ...opts });
    expect(report.findings).toEqual([]);
    expect(report.compared).toBe(false);
    expect(report.failed).toBe(false);
    expect(report.warnings.join()).toMatch(/nothing to gate/);
  });
});

describe('gate on unhealthy current runs: fails with the reason, whatever the numbers', () => {
  const file = (systems: SystemResult[], name: string) => loaded(runResult(systems), name);
  const ring = (seed: number, extra: Partial<Parameters<typeof systemResult>[0]> = {}) => systemResult({ system: 'ringbuffer', p50Us: 50, seed, samples: 3000, ...extra });
  const nats = (seed: number, extra: Partial<Parameters<typeof systemResult>[0]> = {}) => systemResult({ system: 'nats', p50Us: 400, seed: seed + 100, samples: 3000, ...extra });
  const base = [1, 2, 3].map((s) => file([ring(s), nats(s)], `b${s}.json`));
  const healthy = [4, 5, 6].map((s) => file([ring(s), nats(s)], `c${s}.json`));
  const gate = (current: LoadedResult[]) => runGate(base, current, { metrics: [p99, throughput], ...opts });

  it('healthy runs of the same code pass', () => {
    const r = gate(healthy);
    expect(r.problems).toEqual([]);
    expect(r.failed).toBe(false);
  });

  it('every current run failed', () => {
    const r = gate([4, 5, 6].map((s) => file([ring(s, { status: 'failed', error: 'connect ECONNREFUSED' }), nats(s, { status: 'failed', error: 'boom' })], `c${s}.json`)));
    expect(r.failed).toBe(true);
    expect(r.problems).toEqual([
      { series: 'ringbuffer', reason: '3 of 3 current run(s): FAILED (connect ECONNREFUSED)' },
      { series: 'nats', reason: '3 of 3 current run(s): FAILED (boom)' },
    ]);
    expect(r.findings.every((f) => f.status === 'fail' && /no current data/.test(f.reason))).toBe(true);
  });

  it('one failed run among healthy ones', () => {
    const cur = [...healthy.slice(0, 2), file([ring(6), nats(6, { status: 'failed', error: 'timeout' })], 'c6.json')];
    const r = gate(cur);
    expect(r.failed).toBe(true);
    expect(r.problems).toEqual([{ series: 'nats', reason: '1 of 3 current run(s): FAILED (timeout)' }]);
  });

  it('a current series the baseline has is missing', () => {
    const r = gate([4, 5, 6].map((s) => file([ring(s)], `c${s}.json`)));
    expect(r.failed).toBe(true);
    expect(r.problems).toEqual([{ series: 'nats', reason: 'missing: the baseline has 3 run(s) of it, current has none' }]);
    expect(r.findings.filter((f) => f.series === 'nats')).toEqual([]);
  });

  it('delivery errors', () => {
    const r = gate([4, 5, 6].map((s) => file([ring(s), nats(s, { status: 'delivery-errors', error: '12 acked messages lost', lost: 12 })], `c${s}.json`)));
    expect(r.failed).toBe(true);
    expect(r.problems).toEqual([{ series: 'nats', reason: '3 of 3 current run(s): delivery errors (12 acked messages lost)' }]);
  });

  it('no samples: an empty histogram is no data, not a 100% improvement', () => {
    const r = gate([4, 5, 6].map((s) => file([ring(s), nats(s, { samples: 0 })], `c${s}.json`)));
    expect(r.failed).toBe(true);
    expect(r.problems).toEqual([{ series: 'nats', reason: '3 of 3 current run(s): no samples: 0 messages in the end-to-end histogram (no data, not 0 µs)' }]);
    const natsP99 = r.findings.find((f) => f.series === 'nats' && f.metric === 'p99')!;
    expect(natsP99.current).toEqual([]);
    expect(natsP99.status).toBe('fail');
    expect(Number.isNaN(natsP99.currentMedian)).toBe(true);
  });

  it("status 'warning' (broker cross-check disagrees) fails rather than gate silently", () => {
    const warned = (s: number): SystemResult => Object.assign(nats(s), { status: 'warning' as string as SystemResult['status'], broker: { source: 'jetstream stream info', stored: 2990, agrees: false, note: 'broker stored 2990, ledger 3000' } });
    const r = gate([4, 5, 6].map((s) => file([ring(s), warned(s)], `c${s}.json`)));
    expect(r.failed).toBe(true);
    expect(r.problems[0]!.reason).toMatch(/^3 of 3 current run\(s\): status 'warning' \(broker stored 2990, ledger 3000\): its figures are not trusted, so the gate fails rather than gate them silently$/);
  });

  it('an unhealthy baseline run is left out of the baseline, with a warning', () => {
    const b = [...base, file([ring(9), nats(9, { status: 'delivery-errors', error: 'x' })], 'b9.json')];
    const r = runGate(b, healthy, { metrics: [p99], ...opts });
    expect(r.failed).toBe(false);
    expect(r.findings.find((f) => f.series === 'nats')!.baseline).toHaveLength(3);
    expect(r.warnings.join('\n')).toMatch(/nats: baseline run in b9\.json left out: delivery errors \(x\)/);
  });
});

describe('Holm–Bonferroni across (series × metric)', () => {
  it('adjusts step-down, in the order given', () => {
    const adj = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    [0.03, 0.06, 0.06, 0.02].forEach((v, i) => expect(adj[i]).toBeCloseTo(v, 12));
    // borderline: each below alpha 0.05 alone, none survives the family of three
    expect(holmAdjust([0.02, 0.03, 0.04]).every((p) => p > 0.05)).toBe(true);
    expect(holmAdjust([0.04])).toEqual([0.04]);
  });

  it('four series each regressed at p = 1/70 (4 vs 4 runs): each fails alone, none fails as a family of four', () => {
    const file = (systems: SystemResult[], name: string) => loaded(runResult(systems), name);
    const names = ['ringbuffer', 'nats', 'pulsar', 'other'];
    const set = (seeds: number[], scale: number, only?: string) =>
      seeds.map((seed) => file(names.filter((n) => !only || n === only).map((system, k) => systemResult({ system, seed: seed * 10 + k, p50Us: 100, samples: 2000, scale })), `${scale}-${seed}.json`));
    const alone = runGate(set([1, 2, 3, 4], 1, 'nats'), set([5, 6, 7, 8], 2, 'nats'), { metrics: [p99], ...opts });
    expect(alone.findings[0]!.p).toBeCloseTo(1 / 70, 9);
    expect(alone.failed).toBe(true);
    const family = runGate(set([1, 2, 3, 4], 1), set([5, 6, 7, 8], 2), { metrics: [p99], ...opts });
    expect(family.family).toBe(4);
    for (const f of family.findings) {
      expect(f.p).toBeCloseTo(1 / 70, 9);
      expect(f.pHolm).toBeCloseTo(4 / 70, 9);
      expect(f.status).toBe('pass');
    }
    expect(family.failed).toBe(false);
    expect(family.warnings.join('\n')).toMatch(/Holm–Bonferroni over 4 tests: the smallest p must be ≤ alpha\/4 = 0\.013 before any row can fail, and these run counts cannot get there: no row can fail on its numbers; use at least 5 runs per side/);
  });
});
