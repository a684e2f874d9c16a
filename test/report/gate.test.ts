import { describe, expect, it } from 'vitest';
import type { SystemResult } from '../../src/core/result.ts';
import { decide, runGate } from '../../src/report/gate.ts';
import { metricByName } from '../../src/report/metrics.ts';
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

  it('a missing side is reported, not failed', () => {
    expect(decide([100, 110, 120], [], p99, opts).status).toBe('missing');
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
    const base = [1, 2, 3].map((s) => file(cells(s, false), `b${s}.json`));
    const cur = [4, 5, 6].map((s) => file(cells(s, true), `c${s}.json`));
    const report = runGate(base, cur, { metrics: [p99], ...opts });
    const byCell = Object.fromEntries(report.findings.map((f) => [f.series, f.status]));
    expect(byCell).toEqual({ 'nats [storage=file]': 'fail', 'nats [storage=memory]': 'pass' });
  });

  it('ignores failed runs, reports series without current runs as missing, and can restrict systems', () => {
    const base = [1, 2, 3].map((s) => file([ring(s), systemResult({ system: 'nats', seed: s, samples: 2000 })], `b${s}.json`));
    const cur = [4, 5, 6].map((s) => file([ring(s), systemResult({ system: 'nats', seed: s, samples: 2000, status: 'failed', error: 'boom' })], `c${s}.json`));
    const report = runGate(base, cur, { metrics: [p99], ...opts });
    expect(report.findings.find((f) => f.series === 'nats')!.status).toBe('missing');
    expect(report.failed).toBe(false);
    const only = runGate(base, cur, { metrics: [p99], ...opts, systems: ['ringbuffer'] });
    expect(only.findings.map((f) => f.series)).toEqual(['ringbuffer']);
  });

  it('says when nothing matches', () => {
    const report = runGate([file([ring(1)], 'a.json')], [file([systemResult({ system: 'nats', seed: 1, samples: 100 })], 'b.json')], { metrics: [p99], ...opts });
    expect(report.findings.map((f) => f.status)).toEqual(['missing']);
    expect(report.failed).toBe(false);
    expect(report.warnings.join()).toMatch(/nothing to gate/);
  });
});
