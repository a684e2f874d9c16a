/**
 * The shards' intervals side by side: every shard cuts its intervals on the same grid from
 * the common start, so the k-th interval of each covers the same wall-clock span. Counts
 * and rates add; percentiles come from the shards' interval histograms (their .hlog),
 * added like the run's, never from the shards' own percentiles.
 */
import type * as hdr from 'hdr-histogram-js';
import { decodeHdr, newHdr, summarize } from '../../core/histogram.ts';
import type { IntervalStats } from '../../core/result.ts';

export interface IntervalShard {
  intervals: IntervalStats[];
  /** whole intervals this shard's window starts after the earliest one (0 when anchored alike) */
  offset: number;
  /** its interval log's text; without it the merged percentiles are "no data" */
  hlog?: string;
  warmupMs: number;
}

/** tag → interval end (ms after the measured window opened) → histogram */
type IntervalHistograms = Map<string, Map<number, hdr.Histogram>>;

const LINE = /^Tag=([^,]+),([\d.]+),([\d.]+),[\d.]+,(\S+)$/;

/** The interval histograms of an .hlog, keyed as the result's intervals are (tMs). */
export function readHlog(text: string, warmupMs: number, shiftMs = 0): IntervalHistograms {
  const out: IntervalHistograms = new Map();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line.trim());
    if (!m) continue;
    const endMs = Math.round((Number(m[2]) + Number(m[3])) * 1000) - warmupMs + shiftMs;
    const byEnd = out.get(m[1]!) ?? new Map<number, hdr.Histogram>();
    const h = byEnd.get(endMs);
    const add = decodeHdr(m[4]!);
    if (h) h.add(add);
    else byEnd.set(endMs, add);
    out.set(m[1]!, byEnd);
  }
  return out;
}

function addInto(target: IntervalHistograms, more: IntervalHistograms): void {
  for (const [tag, byEnd] of more) {
    const mine = target.get(tag) ?? new Map<number, hdr.Histogram>();
    for (const [end, h] of byEnd) {
      const sum = mine.get(end) ?? newHdr();
      sum.add(h);
      mine.set(end, sum);
    }
    target.set(tag, mine);
  }
}

function addRow(a: IntervalStats, b: IntervalStats): IntervalStats {
  const sum = (x: number | undefined, y: number | undefined): number | undefined => (x === undefined && y === undefined ? undefined : (x ?? 0) + (y ?? 0));
  const row: IntervalStats = { ...a, received: a.received + b.received, msgsPerSec: a.msgsPerSec + b.msgsPerSec };
  for (const k of ['intendedPerSec', 'sent', 'backlog', 'lateReports'] as const) {
    const v = sum(a[k], b[k]);
    if (v !== undefined) row[k] = v;
  }
  if (a.incomplete || b.incomplete) row.incomplete = true;
  return row;
}

/** One row per interval end, the shards' figures added, percentiles from the summed histograms. */
export function mergeIntervals(shards: IntervalShard[], intervalMs: number): IntervalStats[] {
  const rows = new Map<number, IntervalStats>();
  const histograms: IntervalHistograms = new Map();
  const allLogs = shards.every((s) => s.hlog !== undefined);
  for (const s of shards) {
    const shift = s.offset * intervalMs;
    for (const r of s.intervals) {
      const t = r.tMs + shift;
      const have = rows.get(t);
      rows.set(t, have ? addRow(have, { ...r, tMs: t }) : { ...r, tMs: t });
    }
    if (allLogs) addInto(histograms, readHlog(s.hlog!, s.warmupMs, shift));
  }
  return [...rows.values()]
    .sort((a, b) => a.tMs - b.tMs)
    .map((r) => {
      const e2e = histograms.get('e2e')?.get(r.tMs);
      const s = e2e && e2e.totalCount > 0 ? summarize(e2e) : undefined;
      const row: IntervalStats = { ...r, p50: s?.p50 ?? NaN, p99: s?.p99 ?? NaN, max: s?.max ?? NaN };
      const delay = histograms.get('send-delay')?.get(r.tMs);
      if (delay && delay.totalCount > 0) row.sendDelayP99 = summarize(delay).p99;
      else delete row.sendDelayP99;
      return row;
    });
}
