/**
 * The measured window's tests on the workers' hot paths, written so that the warm-up
 * already runs every operation the window will.
 *
 * Why: V8's optimizing compiler turns an operation that never ran into a deoptimization
 * exit ("insufficient type feedback"). `x >= from && x < to` never evaluates its second
 * comparison during the warm-up, and `if (inWindow) hist.record(v)` never makes its call,
 * so the first message of the window threw the producer's and the consumer's loops back
 * into the interpreter: at 1 M msg/s the producer fell 15-50 ms behind its schedule at
 * every window's start, and that slip was the run's p99. Here both comparisons always
 * run, and what is recorded goes to a recorder picked by index, warm-up values to one
 * that is thrown away, so the same call runs before and inside the window.
 */
import { LatencyRecorder } from '../../core/histogram.ts';

/** from <= x < to (from <= to), both comparisons evaluated every time. */
export function within(x: number, from: number, to: number): boolean {
  return x >= from !== x >= to;
}

/** 1 inside [from, to), else 0: an index into a WindowPair, or a count to add. */
export function inside(x: number, from: number, to: number): number {
  return within(x, from, to) ? 1 : 0;
}

/** [outside the window (recorded, never read), inside it], indexed by `inside()`. */
export type WindowPair<T> = readonly [T, T];

export function recorderPair(inWindow: LatencyRecorder): WindowPair<LatencyRecorder> {
  return [new LatencyRecorder(), inWindow];
}

/**
 * Equal latencies in a row, recorded as one recordMany: the deliveries (or acks) of one
 * batch mostly share a latency, since they share a stamp, and a record per message (its
 * bucket index computed each time) was a fifth of a closed-loop consumer's time. Call
 * end() before the recorder is read.
 */
export class Runs {
  private value = -1;
  private count = 0;

  constructor(readonly hist: LatencyRecorder) {}

  add(v: number): void {
    if (v === this.value) {
      this.count++;
      return;
    }
    this.end();
    this.value = v;
    this.count = 1;
  }

  end(): void {
    if (this.count > 0) this.hist.recordMany(this.value, this.count);
    this.count = 0;
    this.value = -1;
  }
}

/** A run per side of the window, indexed by `inside()`: outside (thrown away), inside into `inWindow`. */
export function runsPair(inWindow: LatencyRecorder): WindowPair<Runs> {
  return [new Runs(new LatencyRecorder()), new Runs(inWindow)];
}

export function endRuns(pair: WindowPair<Runs>): void {
  pair[0].end();
  pair[1].end();
}
