/**
 * The open-loop send schedule and what became of it.
 *
 * The run's j-th message is intended at start + N⁻¹(j), N being the integral of the
 * offered rate (core/rate-profile.ts; at a fixed total rate R that is start + j/R), and
 * belongs to producer j mod P: producer p's k-th message is message k·P + p. The
 * producers are phase-shifted, so the combined schedule follows the rate evenly instead
 * of P messages at once, and a step or a ramp applies to all of them at the same instant.
 *
 * Every message intended before the planned end of the window (warm-up + window) is
 * sent, however late; only an abort cuts the schedule short, and then the unsent part is
 * counted.
 */
import { RateProfile, type RateSchedule } from '../core/rate-profile.ts';

export class Schedule {
  constructor(
    readonly startNs: number,
    /** the offered rate of all producers together, from startNs */
    readonly profile: RateProfile,
    readonly producers: number,
    /** this producer's index, 0 ≤ index < producers */
    readonly index: number,
  ) {}

  /** intended send time of this producer's k-th message (integer ns) */
  intendedNs(k: number): number {
    return Math.round(this.startNs + this.profile.timeOfNs(k * this.producers + this.index));
  }

  /**
   * How many of this producer's messages are intended before `endNs`: the first k
   * intended at or after it, from an estimate off by at most one or two, so the answer
   * agrees with intendedNs's rounding by construction.
   */
  countBefore(endNs: number): number {
    let k = Math.max(0, this.estimate(endNs));
    while (k > 0 && this.intendedNs(k - 1) >= endNs) k--;
    while (this.intendedNs(k) < endNs) k++;
    return k;
  }

  private estimate(tNs: number): number {
    return Math.ceil((this.profile.countAt(tNs - this.startNs) - this.index) / this.producers);
  }
}

/** messages of all producers' schedules together, intended in [startNs, endNs) */
export function intendedTotal(startNs: number, endNs: number, profile: RateProfile, producers: number): number {
  let n = 0;
  for (let p = 0; p < producers; p++) n += new Schedule(startNs, profile, producers, p).countBefore(endNs);
  return n;
}

/** The offered rate of a run from its start: the warm-up at `ratePerSec`, then the schedule, if any. */
export function runProfile(spec: { ratePerSec: number; rateSchedule?: RateSchedule; load: { warmupMs: number } }): RateProfile {
  return new RateProfile(spec.ratePerSec, spec.load.warmupMs * 1e6, spec.rateSchedule?.segments);
}
