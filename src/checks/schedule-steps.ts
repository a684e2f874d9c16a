/**
 * The verdict on each step of a rate schedule: a step that the producers did not send at
 * (at least 99% of) its offered rate, or that the consumers did not receive at it, is a
 * finding. The schedule's mean can hide one: 10k kept and 50k at 31k still averages well
 * above half, and the whole point of a step schedule is to see where the system stops
 * keeping up.
 */
import type { ScheduleStep } from '../core/result.ts';

/** the share of a step's offered rate that counts as reached (as the sustainable search's) */
export const STEP_REACHED_SHARE = 0.99;

/** Did the producers send, and the consumers receive, at least 99% of what the step offered? */
export function stepReached(s: Pick<ScheduleStep, 'offeredPerSec' | 'achievedPerSec' | 'receivedPerSec'>): boolean {
  const floor = STEP_REACHED_SHARE * s.offeredPerSec;
  return s.achievedPerSec >= floor && s.receivedPerSec >= floor;
}

/** One finding per step not reached, naming the step, what it offered and what came of it. */
export function stepShortfalls(steps: readonly ScheduleStep[], rate: (perSec: number) => string = (n) => String(Math.round(n))): string[] {
  const out: string[] = [];
  steps.forEach((s, i) => {
    if (stepReached(s)) return;
    const pct = (v: number): string => `${Math.floor((v / s.offeredPerSec) * 100)}%`;
    const short: string[] = [];
    if (s.achievedPerSec < STEP_REACHED_SHARE * s.offeredPerSec) short.push(`sent ${rate(s.achievedPerSec)} msg/s (${pct(s.achievedPerSec)})`);
    if (s.receivedPerSec < STEP_REACHED_SHARE * s.offeredPerSec) short.push(`received ${rate(s.receivedPerSec)} msg/s (${pct(s.receivedPerSec)})`);
    out.push(`step ${i + 1} (${s.fromMs / 1000}–${s.toMs / 1000}s) did not reach its rate: offered ${rate(s.offeredPerSec)} msg/s, ${short.join(', ')}`);
  });
  return out;
}
