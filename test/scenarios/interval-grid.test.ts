/**
 * Interval boundaries fall on the measured window's start: no interval holds both warm-up
 * and measured traffic, so the measured intervals account exactly for the window's count.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { IntervalGrid } from '../../src/harness/control.ts';
import { runOnce } from '../../src/harness/runner.ts';
import { adapter } from '../fixtures/broadcast-system.ts';
import { removeRunDirs, runSpec } from '../fixtures/run-spec.ts';

const workerModule = new URL('../fixtures/broadcast-system.ts', import.meta.url).href;

afterAll(removeRunDirs);

describe('interval grid', () => {
  it('cuts a warm-up that is not a whole number of intervals short at its start', () => {
    const g = new IntervalGrid(1000, 1250, 100);
    expect([0, 1, 2, 3].map((i) => g.endNs(i))).toEqual([1050, 1150, 1250, 1350]);
    expect([0, 1, 3].map((i) => g.startOf(i))).toEqual([1000, 1050, 1250]);
    const whole = new IntervalGrid(1000, 1300, 100);
    expect(whole.firstEndNs).toBe(1100);
  });

  it('gives the measured intervals exactly the messages counted in the window', async () => {
    // 250 ms of warm-up in 100 ms intervals: on a grid anchored at the start, the interval
    // 200-300 ms would hold 50 ms of warm-up and 50 ms of the window.
    const r = await runOnce(runSpec(adapter, { fault: 'none' }, { workerModule, ratePerSec: 2000, load: { warmupMs: 250, durationMs: 1000, intervalMs: 100, drainTimeoutMs: 1500 } }));
    expect(r.status).toBe('ok');
    for (const iv of r.intervals) expect(Math.abs(iv.tMs % 100)).toBe(0);
    const measured = r.intervals.filter((iv) => iv.phase === 'measure');
    expect(measured.map((iv) => iv.tMs)).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    expect(measured.reduce((n, iv) => n + iv.received, 0)).toBe(r.throughput.receivedInWindow);
    const warmup = r.intervals.filter((iv) => iv.phase === 'warmup');
    expect(warmup.map((iv) => iv.tMs)).toEqual([-200, -100, 0]);
    // the short first interval's rate is over its own 50 ms
    expect(warmup[0]!.msgsPerSec).toBeCloseTo(warmup[0]!.received / 0.05, 6);
  });
});
