/**
 * A rate schedule through the real runner on the ring buffer: the warm-up runs at the
 * first step's rate, every interval carries the rate the schedule offered in it, the
 * producers send every intended message (the integral of the schedule), and the result
 * sums up each step: offered, sent, received, p50/p99.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/ringbuffer/index.ts';
import { runOnce } from '../../src/harness/runner.ts';
import type { RateSchedule } from '../../src/core/rate-profile.ts';
import { stepNotes } from '../../src/report/render/console.ts';
import { removeRunDirs, runSpec } from '../fixtures/run-spec.ts';

afterAll(removeRunDirs);

const load = { warmupMs: 500, intervalMs: 250, producers: 2, batchSize: 16, drainTimeoutMs: 10_000 };

describe('rate schedules on the ring buffer', { timeout: 60_000 }, () => {
  it('steps 2k/1s, 8k/1s: intervals follow the steps, every intended message is sent, and each step is summed up', async () => {
    const rateSchedule: RateSchedule = { kind: 'steps', segments: [{ durationMs: 1000, fromPerSec: 2000, toPerSec: 2000 }, { durationMs: 1000, fromPerSec: 8000, toPerSec: 8000 }] };
    const r = await runOnce(runSpec(adapter, {}, { ratePerSec: 2000, rateSchedule, load: { ...load, durationMs: 2000 } }));
    expect(r.status, r.error).toBe('ok');
    // 0.5 s warm-up at 2k + 1 s at 2k + 1 s at 8k
    expect(r.schedule).toMatchObject({ intended: 11_000, sent: 11_000, unsent: 0, intendedPerSec: 5000 });
    expect(r.delivery).toMatchObject({ sent: 11_000, lost: 0, duplicated: 0 });
    const offered = r.intervals.map((iv) => [iv.phase, iv.tMs, iv.intendedPerSec]);
    expect(offered.filter(([phase]) => phase === 'warmup').map(([, , o]) => o)).toEqual([2000, 2000]);
    const measured = r.intervals.filter((iv) => iv.phase === 'measure');
    expect(measured.map((iv) => [iv.tMs, iv.intendedPerSec])).toEqual([[250, 2000], [500, 2000], [750, 2000], [1000, 2000], [1250, 8000], [1500, 8000], [1750, 8000], [2000, 8000]]);
    expect(r.intervals.filter((iv) => iv.phase === 'drain').every((iv) => iv.intendedPerSec === 0)).toBe(true);
    // what was handed over per step is what the step offered (up to a batch late across the boundary)
    const sentIn = (from: number, to: number): number => measured.filter((iv) => iv.tMs > from && iv.tMs <= to).reduce((n, iv) => n + (iv.sent ?? 0), 0);
    expect(Math.abs(sentIn(0, 1000) - 2000)).toBeLessThanOrEqual(2 * 16 * 2);
    expect(Math.abs(sentIn(1000, 2000) - 8000)).toBeLessThanOrEqual(2 * 16 * 2);
    const steps = r.schedule!.steps!;
    expect(steps.map((s) => [s.fromMs, s.toMs, s.offeredPerSec])).toEqual([[0, 1000, 2000], [1000, 2000, 8000]]);
    for (const s of steps) {
      expect(Math.abs(s.achievedPerSec - s.offeredPerSec) / s.offeredPerSec).toBeLessThan(0.05);
      expect(Math.abs(s.receivedPerSec - s.offeredPerSec) / s.offeredPerSec).toBeLessThan(0.1);
      expect(s.p50).not.toBeNull();
      expect(s.p99!).toBeGreaterThanOrEqual(s.p50!);
    }
    const notes = stepNotes(r);
    expect(notes[0]).toMatch(/^ringbuffer: per step/);
    expect(notes[1]).toMatch(/^ {2}0–1s: offered 2\.0k\/s → sent [\d.]+k\/s, received [\d.]+k\/s, p50 \S+, p99 \S+$/);
    expect(notes[2]).toMatch(/^ {2}1–2s: offered 8\.0k\/s/);
  });

  it('a step the consumer cannot keep up with is a finding: reached false, named in the error and marked in the notes', async () => {
    // 250 µs of handler work per message: the consumer takes at most ~4k msg/s. Steps of 2 s:
    // a step's received count lags by the latency at its edges, which a busy host stretches.
    const rateSchedule: RateSchedule = { kind: 'steps', segments: [{ durationMs: 2000, fromPerSec: 1000, toPerSec: 1000 }, { durationMs: 2000, fromPerSec: 8000, toPerSec: 8000 }] };
    const r = await runOnce(runSpec(adapter, {}, { ratePerSec: 1000, rateSchedule, load: { ...load, durationMs: 4000, workUs: 250 } }));
    expect(r.delivery).toMatchObject({ lost: 0, duplicated: 0 });
    const steps = r.schedule!.steps!;
    expect(steps.map((s) => s.reached), JSON.stringify(steps)).toEqual([true, false]);
    expect(steps[1]!.receivedPerSec).toBeLessThan(0.99 * 8000);
    expect(r.error).toMatch(/step 2 \(2–4s\) did not reach its rate: offered 8000 msg\/s, .*received \d+ msg\/s \(\d+%\)/);
    expect(r.error).not.toMatch(/step 1 /);
    const notes = stepNotes(r);
    expect(notes[1]).not.toMatch(/NOT REACHED/);
    expect(notes[2]).toMatch(/NOT REACHED \(< 99%\)$/);
  });

  it('a ramp 1k → 5k over 2 s: each interval offers the ramp at its midpoint, and the integral is sent', async () => {
    const rateSchedule: RateSchedule = { kind: 'ramp', segments: [{ durationMs: 2000, fromPerSec: 1000, toPerSec: 5000 }] };
    const r = await runOnce(runSpec(adapter, {}, { ratePerSec: 1000, rateSchedule, load: { ...load, durationMs: 2000 } }));
    expect(r.status, r.error).toBe('ok');
    // 0.5 s at 1k, then (1k + 5k) / 2 × 2 s
    expect(r.schedule).toMatchObject({ intended: 6500, sent: 6500, unsent: 0, intendedPerSec: 3000 });
    expect(r.schedule!.steps).toBeUndefined();
    const measured = r.intervals.filter((iv) => iv.phase === 'measure');
    expect(measured.map((iv) => iv.intendedPerSec)).toEqual([1250, 1750, 2250, 2750, 3250, 3750, 4250, 4750]);
    const sent = measured.reduce((n, iv) => n + (iv.sent ?? 0), 0);
    expect(Math.abs(sent - 6000)).toBeLessThanOrEqual(2 * 16 * 2);
  });
});
