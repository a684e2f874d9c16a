/**
 * An estimate of one metric of one series with an interval saying how far it could move
 * by chance, from whatever the data offers; the tracker formats publish it, compare and
 * the HTML show the value. No verdict is drawn from these intervals (compare.ts and
 * gate.ts test the per-run values instead):
 *
 * - two or more runs (files or repetitions): median, interval [min, max] of the runs.
 * - one run, a latency percentile: the distribution-free 95% confidence interval of a
 *   quantile from order statistics, read off the run's own HDR histogram (ranks
 *   N·q ± 1.96·√(N·q·(1−q))), widened by the histogram's bucket resolution (2^-10).
 *   This is only sampling noise within the run, not the run-to-run noise that dominates
 *   on a shared machine.
 * - one run, throughput: mean ± 1.96·sd/√k over its k measured intervals.
 * - anything else (max, mean of one run): the point, no interval.
 */
import { decodeHdr } from '../../core/histogram.ts';
import type { SystemResult } from '../../core/result.ts';
import { measuredIntervals } from './intervals.ts';
import { runValues, type Metric } from './metrics.ts';
import type { Run } from './series.ts';
import { median, mean, stdev } from './stats.ts';

export type EstimateSource = 'repetitions' | 'histogram' | 'intervals' | 'point';

export interface Estimate {
  value: number;
  lo: number;
  hi: number;
  /** runs behind the estimate */
  n: number;
  source: EstimateSource;
}

/** HdrHistogram with 3 significant digits: a bucket spans at most 1/1024 of its value. */
export const HDR_RESOLUTION = 2 ** -10;
const Z95 = 1.96;

function histogramInterval(s: SystemResult, kind: 'e2e' | 'publish', percentile: number, value: number): [number, number] | undefined {
  const encoded = s.histograms?.[kind];
  if (!encoded) return undefined;
  let h;
  try {
    h = decodeHdr(encoded);
  } catch {
    return undefined;
  }
  const n = h.totalCount;
  if (n < 2) return undefined;
  const q = percentile / 100;
  const half = Z95 * Math.sqrt(n * q * (1 - q));
  const loPct = Math.max(0, (100 * Math.floor(n * q - half)) / n);
  const hiPct = Math.min(100, (100 * Math.ceil(n * q + half)) / n);
  // ns → µs; the summary clamps percentiles to the exact max, so the interval does too.
  const maxUs = s.latency[kind].max;
  const lo = Math.min((h.getValueAtPercentile(loPct) / 1000) * (1 - HDR_RESOLUTION), value);
  const hi = Math.max(Math.min((h.getValueAtPercentile(hiPct) / 1000) * (1 + HDR_RESOLUTION), maxUs), value);
  return [lo, hi];
}

function intervalThroughput(run: Run, value: number): [number, number] | undefined {
  const rates = measuredIntervals(run.system, run.result.parameters).map((i) => i.msgsPerSec);
  if (rates.length < 2) return undefined;
  const half = (Z95 * stdev(rates)) / Math.sqrt(rates.length);
  const scale = value / mean(rates) || 1; // same relative width around the run's own figure
  return [value - half * scale, value + half * scale];
}

export function estimate(runs: Run[], m: Metric): Estimate | undefined {
  const values = runs.flatMap((r) => runValues(r.system, m));
  if (values.length === 0) return undefined;
  if (values.length >= 2) return { value: median(values), lo: Math.min(...values), hi: Math.max(...values), n: values.length, source: 'repetitions' };
  const value = values[0]!;
  const run = runs.find((r) => runValues(r.system, m).length > 0)!;
  const fromHistogram = m.histogram ? histogramInterval(run.system, m.histogram.kind, m.histogram.percentile, value) : undefined;
  if (fromHistogram) return { value, lo: fromHistogram[0], hi: fromHistogram[1], n: 1, source: 'histogram' };
  const fromIntervals = m.name === 'throughput' ? intervalThroughput(run, value) : undefined;
  if (fromIntervals) return { value, lo: fromIntervals[0], hi: fromIntervals[1], n: 1, source: 'intervals' };
  return { value, lo: value, hi: value, n: 1, source: 'point' };
}

/**
 * The gate's too-few-runs fallback: the smallest change that fails when the test cannot
 * run. On the 2-core reference machine identical ring-buffer tps runs differed by up to
 * 18% in throughput and 29% in p99, so 25%: below that, one run against one run proves nothing.
 */
export const DEFAULT_SINGLE_RUN_FLOOR = 0.25;
