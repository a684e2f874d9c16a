/**
 * The one clock of a run. `process.hrtime` reads CLOCK_MONOTONIC, which every thread and
 * process on the host shares, so a timestamp taken in a producer worker (or another
 * process) can be subtracted from one taken in a consumer. `performance.now()` cannot be
 * used for that: its origin is per thread.
 *
 * Values are nanoseconds as a double. That is exact while the host's uptime is below
 * 2^53 ns (104 days); beyond it the resolution degrades to a few ns, far below what we report.
 */
export function monoNs(): number {
  return Number(process.hrtime.bigint());
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
