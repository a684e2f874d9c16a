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

/** What a piece is looked up by: a time (ns from the run's start) or a message count. */
const BY_TIME = 0;
const BY_COUNT = 1;
type Axis = typeof BY_TIME | typeof BY_COUNT;
const startOf = (p: Piece, axis: Axis): number => (axis === BY_TIME ? p.t0Ns : p.n0);
const lengthOf = (p: Piece, axis: Axis): number => (axis === BY_TIME ? p.lenNs : p.count);

/** rounds of rehearse(): well past the calls V8 makes before it records feedback */
const REHEARSALS = 32;

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
    this.rehearse();
  }

  /**
   * Looks up every piece, by time and by count, forwards and back, REHEARSALS times. A
   * producer asks for one piece through the warm-up, and the optimizing compiler then has
   * no feedback for moving to the next one or for a ramp's arithmetic: the first lookup
   * past the warm-up threw the producer's loop back into the interpreter
   * (src/harness/worker/window.ts tells that story for the window's own tests). Once was
   * not enough: V8 gives a function somewhere to record feedback only after its first
   * calls (8 by default), so a single rehearsal of two pieces recorded nothing and the
   * window's first message still crossed into the second piece unseen.
   */
  private rehearse(): void {
    const last = this.pieces.length - 1;
    for (let r = 0; r < REHEARSALS; r++) {
      for (const p of this.pieces) {
        for (const from of [0, last]) {
          this.hint = from;
          this.countAt(p.t0Ns + 1);
          this.hint = from;
          this.timeOfNs(p.n0 + 0.5);
        }
      }
    }
    this.hint = 0;
  }

  /** N(t): messages intended in [0, tNs) as a real number (the schedule's integral) */
  countAt(tNs: number): number {
    if (tNs <= 0) return 0;
    const p = this.pieceAt(tNs, BY_TIME);
    const tau = (tNs - p.t0Ns) / 1e9;
    return p.n0 + p.rate * tau + (p.slope * tau * tau) / 2;
  }

  /** N⁻¹(j): the intended time of message j, ns from the run's start */
  timeOfNs(j: number): number {
    const p = this.pieceAt(j, BY_COUNT);
    const d = j - p.n0;
    // constant rate: the product keeps the rounding of the plain j/R schedule
    if (p.slope === 0) return p.t0Ns + d * (1e9 / p.rate);
    // the root of rate·τ + slope·τ²/2 = d, in the form that stays exact for a small slope
    const tau = (2 * d) / (p.rate + Math.sqrt(Math.max(0, p.rate * p.rate + 2 * p.slope * d)));
    return p.t0Ns + Math.min(tau * 1e9, p.lenNs);
  }

  /** the offered rate at tNs, msg/s */
  rateAt(tNs: number): number {
    const p = this.pieceAt(tNs, BY_TIME);
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
  private pieceAt(x: number, axis: Axis): Piece {
    const pieces = this.pieces;
    let i = Math.min(this.hint, pieces.length - 1);
    // no predicate closures: this runs per message, and a closure per call fed the young generation
    while (i > 0 && x < startOf(pieces[i]!, axis)) i--;
    while (i < pieces.length - 1 && !(x < startOf(pieces[i]!, axis) + lengthOf(pieces[i]!, axis))) i++;
    this.hint = i;
    return pieces[i]!;
  }
}
