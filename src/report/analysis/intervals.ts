/**
 * The per-interval statistics of a run's measured window. The phase field alone is not
 * enough: the runner marks an interval "measure" when it ends within one interval after
 * the window, so the interval that starts exactly at the window's end (holding only the
 * drain's stragglers, e.g. 2048 msg/s after 950k) would pass. Keep intervals that
 * START inside the window.
 */
import type { IntervalStats, RunParameters, SystemResult } from '../../core/result.ts';

export function measuredIntervals(s: SystemResult, p: Pick<RunParameters, 'intervalMs' | 'durationMs'>): IntervalStats[] {
  return (s.intervals ?? []).filter((i) => i.phase === 'measure' && i.tMs - p.intervalMs < p.durationMs);
}
