/**
 * The fixed-rate send schedule and what became of it.
 *
 * With P producers at a total rate R, the run's j-th message is intended at start + j/R
 * and belongs to producer j mod P: producer p's k-th message is intended at
 * start + (k·P + p)/R. The producers are phase-shifted, so the combined schedule is
 * evenly spaced instead of P messages at once every P/R.
 *
 * Every message intended before the planned end of the window (warm-up + window) is
 * sent, however late; only an abort cuts the schedule short, and then the unsent part is
 * counted.
 */
import { LatencyRecorder, type LatencySummary } from '../core/histogram.ts';
import type { ScheduleResult } from '../core/result.ts';
import { formatUs } from '../core/units.ts';

export class Schedule {
  private readonly nsPerSlot: number;

  constructor(
    readonly startNs: number,
    /** messages per second of all producers together */
    readonly totalRatePerSec: number,
    readonly producers: number,
    /** this producer's index, 0 ≤ index < producers */
    readonly index: number,
  ) {
    this.nsPerSlot = 1e9 / totalRatePerSec;
  }

  /** intended send time of this producer's k-th message (integer ns) */
  intendedNs(k: number): number {
    return Math.round(this.startNs + (k * this.producers + this.index) * this.nsPerSlot);
  }

  /** how many of this producer's messages are intended at or before `nowNs` */
  dueBy(nowNs: number): number {
    return this.countWhile((k) => this.intendedNs(k) <= nowNs, this.estimate(nowNs));
  }

  /** how many of this producer's messages are intended before `endNs` */
  countBefore(endNs: number): number {
    return this.countWhile((k) => this.intendedNs(k) < endNs, this.estimate(endNs));
  }

  private estimate(tNs: number): number {
    return Math.ceil(((tNs - this.startNs) / this.nsPerSlot - this.index) / this.producers);
  }

  /**
   * The first k for which `holds` fails, from an estimate off by at most one or two: the
   * answer agrees with intendedNs's rounding by construction.
   */
  private countWhile(holds: (k: number) => boolean, estimate: number): number {
    let k = Math.max(0, estimate);
    while (k > 0 && !holds(k - 1)) k--;
    while (holds(k)) k++;
    return k;
  }
}

/** messages of all producers' schedules together, intended in [startNs, endNs) */
export function intendedTotal(startNs: number, endNs: number, totalRatePerSec: number, producers: number): number {
  let n = 0;
  for (let p = 0; p < producers; p++) n += new Schedule(startNs, totalRatePerSec, producers, p).countBefore(endNs);
  return n;
}

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

export function judgeSchedule(t: ScheduleTotals, totalRatePerSec: number, producers: number, batchSize: number, windowMs: number): ScheduleStats {
  const limitNs = Math.max(BASE_LIMIT_NS, (batchSize * producers * 1e9) / totalRatePerSec);
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

/** The findings a fixed-rate run's schedule adds to its problems (status unchanged). */
export function scheduleProblems(s: ScheduleStats): string[] {
  const out: string[] = [];
  if (s.unsent > 0) out.push(`${s.unsent} of ${s.intended} intended messages never sent (run aborted)`);
  if (!s.kept) {
    const p99 = s.sendDelayP99Us === null ? 'no data' : formatUs(s.sendDelayP99Us);
    out.push(`could not sustain ${Math.round(s.intendedPerSec)} msg/s: achieved ${Math.round(s.achievedPerSec)} msg/s, send delay p99 ${p99}`);
  }
  return out;
}
