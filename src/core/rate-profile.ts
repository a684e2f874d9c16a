/**
 * The offered rate over a run's time line, and the intended send time of its j-th message.
 *
 * A run offers `initialPerSec` through the warm-up, then each segment of the schedule in
 * turn (a step: from = to; a ramp: the rate changes linearly from `fromPerSec` to
 * `toPerSec`), and after the last segment its final rate (only a late message of the
 * schedule lives there). N(t), the messages intended in [0, t), is the integral of the
 * rate; message j is intended at N⁻¹(j), so the count intended in any span is the
 * schedule's integral over it, rounded up, and a stall shifts nothing.
 */

/** One part of the measured window, rates of all producers together. */
export interface RateSegment {
  durationMs: number;
  fromPerSec: number;
  toPerSec: number;
}

/** A scenario's rate schedule: `steps` (constant per segment) or a `ramp` (one linear segment). */
export interface RateSchedule {
  kind: 'steps' | 'ramp';
  segments: RateSegment[];
}

export function scheduleLengthMs(s: RateSchedule): number {
  return s.segments.reduce((sum, g) => sum + g.durationMs, 0);
}

/** A piece of N(t): from t0 on, n0 + rate·τ + slope·τ²/2 (τ in s from t0, rate msg/s, slope msg/s²). */
interface Piece {
  t0Ns: number;
  lenNs: number;
  n0: number;
  rate: number;
  slope: number;
  /** messages intended within the piece */
  count: number;
}

export class RateProfile {
  private readonly pieces: Piece[] = [];
  private hint = 0;

  /** `warmupNs`: how long `initialPerSec` runs before the segments start (offsets from the run's start) */
  constructor(initialPerSec: number, warmupNs: number, segments: readonly RateSegment[] = []) {
    let t = 0;
    let n = 0;
    const add = (lenNs: number, from: number, to: number): void => {
      if (!(lenNs > 0)) return;
      const slope = (to - from) / (lenNs / 1e9);
      const count = ((from + to) / 2) * (lenNs / 1e9);
      this.pieces.push({ t0Ns: t, lenNs, n0: n, rate: from, slope, count });
      t += lenNs;
      n += count;
    };
    add(warmupNs, initialPerSec, initialPerSec);
    for (const g of segments) add(g.durationMs * 1e6, g.fromPerSec, g.toPerSec);
    const last = segments.length > 0 ? segments[segments.length - 1]!.toPerSec : initialPerSec;
    this.pieces.push({ t0Ns: t, lenNs: Infinity, n0: n, rate: last, slope: 0, count: Infinity });
  }

  /** N(t): messages intended in [0, tNs) as a real number (the schedule's integral) */
  countAt(tNs: number): number {
    if (tNs <= 0) return 0;
    const p = this.pieceAt((q) => tNs < q.t0Ns + q.lenNs, (q) => tNs < q.t0Ns);
    const tau = (tNs - p.t0Ns) / 1e9;
    return p.n0 + p.rate * tau + (p.slope * tau * tau) / 2;
  }

  /** N⁻¹(j): the intended time of message j, ns from the run's start */
  timeOfNs(j: number): number {
    const p = this.pieceAt((q) => j < q.n0 + q.count, (q) => j < q.n0);
    const d = j - p.n0;
    // constant rate: the product keeps the rounding of the plain j/R schedule
    if (p.slope === 0) return p.t0Ns + d * (1e9 / p.rate);
    // the root of rate·τ + slope·τ²/2 = d, in the form that stays exact for a small slope
    const tau = (2 * d) / (p.rate + Math.sqrt(Math.max(0, p.rate * p.rate + 2 * p.slope * d)));
    return p.t0Ns + Math.min(tau * 1e9, p.lenNs);
  }

  /** the offered rate at tNs, msg/s */
  rateAt(tNs: number): number {
    const p = this.pieceAt((q) => tNs < q.t0Ns + q.lenNs, (q) => tNs < q.t0Ns);
    return p.rate + (p.slope * Math.max(0, tNs - p.t0Ns)) / 1e9;
  }

  /** the lowest rate offered in [fromNs, toNs): rates are linear per piece, so an end of one */
  lowestPerSec(fromNs: number, toNs: number): number {
    let low = Math.min(this.rateAt(fromNs), this.rateAt(Math.max(fromNs, toNs - 1)));
    for (const p of this.pieces) {
      if (p.t0Ns >= fromNs && p.t0Ns < toNs) low = Math.min(low, p.rate);
    }
    return low;
  }

  /**
   * The piece that `inside` accepts, searched from the last one used: the producers ask in
   * increasing order, so this is one or two comparisons per message.
   */
  private pieceAt(inside: (p: Piece) => boolean, before: (p: Piece) => boolean): Piece {
    let i = Math.min(this.hint, this.pieces.length - 1);
    while (i > 0 && before(this.pieces[i]!)) i--;
    while (i < this.pieces.length - 1 && !inside(this.pieces[i]!)) i++;
    this.hint = i;
    return this.pieces[i]!;
  }
}
