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
