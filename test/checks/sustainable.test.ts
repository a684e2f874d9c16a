import { describe, expect, it } from 'vitest';
import { judgeStep, RateSearch, type StepMeasure, type SustainablePlan } from '../../src/checks/sustainable.ts';
import type { IntervalStats } from '../../src/core/result.ts';

const plan = (over: Partial<SustainablePlan> = {}): SustainablePlan => ({ fromPerSec: 1000, maxPerSec: 10_000_000, stepMs: 1000, stepWarmupMs: 0, maxSteps: 16, precision: 0.05, ...over });

/** A system that keeps up with anything up to `capacity` and falls behind above it. */
function measure(offered: number, capacity: number, p99Us = 500): StepMeasure {
  const got = Math.min(offered, capacity);
  const intervals: IntervalStats[] = [0, 1, 2, 3].map((i) => ({ tMs: (i + 1) * 1000, phase: 'measure', received: got, msgsPerSec: got, p50: 1, p99: p99Us, max: 1, sent: offered, backlog: 50 + (offered - got) * (i + 1) }));
  return { status: 'ok', msgsPerSec: got, achievedPerSec: offered, p99Us, intervals };
}

function search(capacity: number, p: SustainablePlan, slo?: number, p99 = (_r: number) => 500) {
  const s = new RateSearch(p);
  for (let r = s.next(); r !== undefined; r = s.next()) s.record(judgeStep(r, measure(r, capacity, p99(r)), 1000, slo));
  return s.outcome();
}

describe('maximum sustainable rate search', () => {
  it.each([3_700, 52_000, 1_234_567])('converges within 5%% under a capacity of %d msg/s, in a bounded number of steps', (capacity) => {
    const o = search(capacity, plan());
    expect(o.converged).toBe(true);
    expect(o.sustainablePerSec).toBeLessThanOrEqual(capacity);
    expect(o.sustainablePerSec!).toBeGreaterThanOrEqual(capacity * 0.95 * 0.99);
    expect(o.steps.length).toBeLessThanOrEqual(16);
    expect(o.steps.every((v) => v.pass === v.offeredPerSec <= capacity / 0.99)).toBe(true);
  });

  it('fails a step on each rule and says which', () => {
    expect(judgeStep(10_000, measure(10_000, 5_000), 1000).reason).toMatch(/^consumers received 5000 < 99% of offered; backlog grew 5000 msg\/s$/);
    expect(judgeStep(10_000, { ...measure(10_000, 20_000), achievedPerSec: 9000 }, 1000).reason).toBe('producers achieved 9000 < 99% of offered');
    expect(judgeStep(10_000, measure(10_000, 20_000, 12_000), 1000, 10_000).reason).toBe('p99 12000 µs over the SLO 10000 µs');
    expect(judgeStep(10_000, { ...measure(10_000, 20_000), status: 'delivery-errors', error: '3 lost' }, 1000).reason).toBe('delivery-errors: 3 lost');
    expect(judgeStep(10_000, measure(10_000, 20_000), 1000, 10_000)).toMatchObject({ pass: true, reason: '' });
  });

  it('with an SLO, stops where the p99 crosses it rather than where throughput does', () => {
    const o = search(1_000_000, plan(), 10_000, (r) => (r > 100_000 ? 50_000 : 2_000));
    expect(o.converged).toBe(true);
    expect(o.sustainablePerSec!).toBeLessThanOrEqual(100_000);
    expect(o.sustainablePerSec!).toBeGreaterThan(90_000);
  });

  it('says so when the first step fails, when everything passes up to max, and when steps run out', () => {
    expect(search(500, plan())).toMatchObject({ sustainablePerSec: null, converged: false, stop: 'the first step (1000 msg/s) failed: lower sustainable.from' });
    expect(search(1e9, plan({ maxPerSec: 64_000 }))).toMatchObject({ sustainablePerSec: 64_000, converged: false, stop: 'every step passed up to sustainable.max (64000 msg/s): raise it' });
    const short = search(52_000, plan({ maxSteps: 5 }));
    expect(short.steps).toHaveLength(5);
    expect(short).toMatchObject({ converged: false });
    expect(short.stop).toMatch(/^stopped after 5 steps \(sustainable.maxSteps\) between \d+ \(pass\) and \d+ \(fail\)$/);
  });
});
