/**
 * The one clock of a run: CLOCK_MONOTONIC, which every thread and process on the host
 * shares, so a timestamp taken in a producer worker (or another process) can be
 * subtracted from one taken in a consumer.
 *
 * Read through `performance.now()`, not `process.hrtime.bigint()`: the BigInt read costs
 * ~2x as much here and allocates a BigInt per call, and the hot loops read the clock
 * about once per message, so the young generation kept filling and its scavenges paused
 * the producer (at 1 M msg/s, ~50 pauses in a 2 s window, the longest 5 ms, on 2 vCPUs
 * where the parallel scavenger's helper threads wait for a core). `performance.now()`
 * returns a double without allocating, but counts from an origin of its own (the
 * process's start in Node 24; a thread's in the spec), so on its own it cannot be
 * compared across processes. Both read uv_hrtime, the same clock: monoNs() =
 * performance.now() * 1e6 + origin, with the origin found once per thread (at this
 * module's load) by bracketing performance.now() reads between BigInt reads.
 * `calibration.errorNs` bounds the error (~100 ns here): far below what we report;
 * test/core/clock.test.ts checks that threads and processes agree.
 *
 * Values are nanoseconds as a double. That is exact while the host's uptime is below
 * 2^53 ns (104 days); beyond it the resolution degrades to a few ns, far below what we report.
 */
import { performance } from 'node:perf_hooks';

const bigNs = (): number => Number(process.hrtime.bigint());

export interface ClockCalibration {
  /** performance.now()'s origin on CLOCK_MONOTONIC, in ns: monoNs() = performance.now() * 1e6 + originNs */
  originNs: number;
  /** half the width of the bracket the origin was found in: the most monoNs() can be off CLOCK_MONOTONIC */
  errorNs: number;
}

/**
 * Brackets performance.now()'s origin: for every read p between BigInt reads a and b,
 * the origin lies in [a - p, b - p]; the intersection over all reads is kept.
 * Exported for the test; monoNs() uses the calibration made at load.
 */
export function calibrate(samples = 2000): ClockCalibration {
  let lo = Number.NEGATIVE_INFINITY;
  let hi = Number.POSITIVE_INFINITY;
  for (let i = 0; i < samples; i++) {
    const a = bigNs();
    const p = performance.now() * 1e6;
    const b = bigNs();
    if (a - p > lo) lo = a - p;
    if (b - p < hi) hi = b - p;
  }
  // performance.now() is uv_hrtime in ms; rounding ms to ns can put the bounds a few ns apart the wrong way
  if (hi < lo - 100) throw new Error(`clock: performance.now() does not follow CLOCK_MONOTONIC here (origin bracket [${lo}, ${hi}] ns is empty)`);
  return { originNs: (lo + hi) / 2, errorNs: Math.max(0, (hi - lo) / 2) };
}

export const calibration: ClockCalibration = calibrate();
const ORIGIN_NS = calibration.originNs;

// Whole nanoseconds, as the BigInt read gave: the timeline is stored as integers
// (BigInt64 words) and interval edges are compared against it, so a fractional read put
// an edge a fraction of a ns off and made the first interval after the window "measure".
export function monoNs(): number {
  return Math.round(performance.now() * 1e6 + ORIGIN_NS);
}

/** A timer that fires when monoNs() reaches `ns` (at once if it has). */
export function atMonoNs(ns: number, f: () => void): NodeJS.Timeout {
  return setTimeout(f, Math.max(0, (ns - monoNs()) / 1e6));
}

export interface ClockCost {
  /** mean cost of one monoNs() call, in nanoseconds */
  nsPerCall: number;
  /** smallest nonzero difference seen between consecutive reads, in nanoseconds */
  resolutionNs: number;
}

/** Measures what a clock read costs here; benchmark output shows it beside the figures. */
export function measureClockCost(calls = 200_000): ClockCost {
  let minStep = Number.POSITIVE_INFINITY;
  let prev = monoNs();
  const start = prev;
  for (let i = 0; i < calls; i++) {
    const now = monoNs();
    const step = now - prev;
    if (step > 0 && step < minStep) minStep = step;
    prev = now;
  }
  const nsPerCall = (prev - start) / calls;
  return { nsPerCall, resolutionNs: Number.isFinite(minStep) ? minStep : 0 };
}
