/**
 * The verdict on a fixed-rate run's schedule: did the producers send what the schedule
 * held, on time? (The schedule itself, and the pacing, live in src/harness/schedule.ts.)
 */
import type { LatencyRecorder, LatencySummary } from '../core/histogram.ts';
import type { ScheduleResult } from '../core/result.ts';
import { formatUs } from '../core/units.ts';

/** What the producers of one fixed-rate run report about their schedule. */
export interface ScheduleTotals {
  /** messages of the schedule (warm-up + window) */
  intended: number;
  sent: number;
  /** handed over inside the measured window */
  sentInWindow: number;
  sendDelay: LatencyRecorder;
}

export type ScheduleStats = ScheduleResult;

/**
 * A producer kept its schedule when it sent everything intended and its send-delay p99
 * stays within the larger of 5 ms and the time one full batch takes to come due at its
 * own rate. 5 ms: a producer sleeps between sends (setTimeout has 1 ms resolution) and
 * on a busy host waits up to a scheduler time slice (~4 ms) for a core, so lateness up
 * to that is the price of not spinning, not a producer falling behind. A full batch's
 * worth: a producer later than that cannot send even full batches as fast as they come
 * due. Beyond the limit, the system saw bursts instead of the rate asked for.
 */
const BASE_LIMIT_NS = 5e6;

/** `totalRatePerSec`: offered over the window (a schedule's mean); `lowestPerSec`: a schedule's lowest, whose batches take longest to come due */
export function judgeSchedule(t: ScheduleTotals, totalRatePerSec: number, producers: number, batchSize: number, windowMs: number, lowestPerSec = totalRatePerSec): ScheduleStats {
  const limitNs = Math.max(BASE_LIMIT_NS, (batchSize * producers * 1e9) / lowestPerSec);
  const delay: LatencySummary | null = t.sendDelay.total > 0 ? t.sendDelay.summary() : null;
  const p99Us = delay ? delay.p99 : null;
  const unsent = t.intended - t.sent;
  return {
    intendedPerSec: totalRatePerSec,
    achievedPerSec: t.sentInWindow / (windowMs / 1000),
    intended: t.intended,
    sent: t.sent,
    unsent,
    sendDelayP99Us: p99Us,
    kept: unsent <= 0 && p99Us !== null && p99Us * 1000 <= limitNs,
    rule: `every intended message sent and send-delay p99 ≤ ${(limitNs / 1e6).toFixed(1)} ms (the larger of 5 ms and one full batch at the producer's rate)`,
  };
}

/**
 * The finding of a schedule not kept, in the words the result, the console and the report
 * share; each formats rates its own way (the result writes whole numbers).
 */
export function notSustained(s: ScheduleStats, rate: (perSec: number) => string = (n) => String(Math.round(n))): string | undefined {
  if (s.kept) return undefined;
  const p99 = s.sendDelayP99Us === null ? 'no data' : formatUs(s.sendDelayP99Us);
  return `could not sustain ${rate(s.intendedPerSec)} msg/s: achieved ${rate(s.achievedPerSec)} msg/s, send delay p99 ${p99}`;
}

/** An aborted run's schedule: how many intended messages never went out. */
export function unsentNote(s: ScheduleStats): string | undefined {
  return s.unsent > 0 ? `${s.unsent} of ${s.intended} intended messages never sent (run aborted)` : undefined;
}

/** The findings a fixed-rate run's schedule adds to its problems (status unchanged). */
export function scheduleProblems(s: ScheduleStats): string[] {
  return [unsentNote(s), notSustained(s)].filter((x): x is string => x !== undefined);
}
