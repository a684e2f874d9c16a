import { describe, expect, it } from 'vitest';
import { stepReached, stepShortfalls } from '../../src/checks/schedule-steps.ts';
import type { ScheduleStep } from '../../src/core/result.ts';

const step = (offered: number, achieved: number, received: number, fromMs = 0, toMs = 1000): ScheduleStep => ({ fromMs, toMs, offeredPerSec: offered, achievedPerSec: achieved, receivedPerSec: received, count: 1, p50: 1, p99: 2 });

describe('per-step schedule verdict', () => {
  it('a step is reached at 99% of its offered rate, sent and received', () => {
    expect(stepReached(step(10_000, 9900, 9900))).toBe(true);
    expect(stepReached(step(10_000, 9899, 10_000))).toBe(false);
    expect(stepReached(step(10_000, 10_000, 9899))).toBe(false);
  });

  it('names each step not reached, with what fell short', () => {
    const steps = [step(10_000, 10_000, 9990), step(50_000, 31_200, 31_000, 1000, 2000), step(80_000, 80_000, 40_000, 2000, 3000)];
    expect(stepShortfalls(steps)).toEqual([
      'step 2 (1–2s) did not reach its rate: offered 50000 msg/s, sent 31200 msg/s (62%), received 31000 msg/s (62%)',
      'step 3 (2–3s) did not reach its rate: offered 80000 msg/s, received 40000 msg/s (50%)',
    ]);
  });
});
