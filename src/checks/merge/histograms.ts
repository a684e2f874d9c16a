/**
 * Histograms added bucket for bucket: every shard records into the same HdrHistogram
 * layout, so the merged histogram is exactly the one a single process recording every
 * value would hold, and its percentiles are those of all the values, not an average of
 * the shards' percentiles.
 */
import * as hdr from 'hdr-histogram-js';
import { decodeHdr, encodeHdr, newHdr, summarize, type LatencySummary } from '../../core/histogram.ts';

/** The sum of encoded histograms; '' (a failed run's) counts as empty. */
export function addEncoded(encoded: readonly string[]): hdr.Histogram {
  const sum = newHdr();
  for (const e of encoded) if (e) sum.add(decodeHdr(e));
  return sum;
}

/**
 * The merged summary: percentiles from the summed histogram, min and max the exact
 * extremes the shards recorded (a bucket's top can exceed the largest value).
 */
export function mergedSummary(sum: hdr.Histogram, parts: ReadonlyArray<LatencySummary | undefined>): LatencySummary {
  const seen = parts.filter((p): p is LatencySummary => p !== undefined && p.count > 0);
  if (seen.length === 0 || sum.totalCount === 0) return summarize(sum, 0);
  const exact = { min: Math.min(...seen.map((p) => p.min)) * 1000, max: Math.max(...seen.map((p) => p.max)) * 1000 };
  return summarize(sum, sum.totalCount, exact);
}

/** One latency kind merged: its encoded histogram and its summary. */
export function mergeKind(encoded: ReadonlyArray<string | undefined>, parts: ReadonlyArray<LatencySummary | undefined>): { encoded: string; summary: LatencySummary } {
  const sum = addEncoded(encoded.filter((e): e is string => e !== undefined));
  return { encoded: encodeHdr(sum), summary: mergedSummary(sum, parts) };
}
