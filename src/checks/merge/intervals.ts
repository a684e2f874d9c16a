/**
 * The shards' intervals side by side: every shard cuts its intervals on the same grid from
 * the common start, so the k-th interval of each covers the same wall-clock span. Counts
 * and rates add; percentiles come from the shards' interval histograms (their .hlog),
 * added like the run's, never from the shards' own percentiles. The summed interval
 * histograms are the merged result's own interval log.
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

/** One interval's histogram and where it started (ms after the measured window opened; negative in the warm-up). */
export interface IntervalHistogram {
  startMs: number;
  h: hdr.Histogram;
}

/** tag → interval end (ms after the measured window opened) → histogram */
export type IntervalHistograms = Map<string, Map<number, IntervalHistogram>>;

const LINE = /^Tag=([^,]+),([\d.]+),([\d.]+),[\d.]+,(\S+)$/;
const START = /^#\[StartTime: ([\d.]+) /m;

/** The interval histograms of an .hlog, keyed as the result's intervals are (tMs). */
export function readHlog(text: string, warmupMs: number, shiftMs = 0): IntervalHistograms {
  const out: IntervalHistograms = new Map();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line.trim());
    if (!m) continue;
    const startMs = Math.round(Number(m[2]) * 1000) - warmupMs + shiftMs;
    const endMs = Math.round((Number(m[2]) + Number(m[3])) * 1000) - warmupMs + shiftMs;
    addInto(out, new Map([[m[1]!, new Map([[endMs, { startMs, h: decodeHdr(m[4]!) }]])]]));
  }
  return out;
}

/** An .hlog's StartTime (ms since the epoch): its interval timestamps are seconds after it. */
export function hlogStartEpochMs(text: string): number | undefined {
  const m = START.exec(text);
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}

function addInto(target: IntervalHistograms, more: IntervalHistograms): void {
  for (const [tag, byEnd] of more) {
    const mine = target.get(tag) ?? new Map<number, IntervalHistogram>();
    for (const [end, x] of byEnd) {
      const sum = mine.get(end) ?? { startMs: x.startMs, h: newHdr() };
      sum.h.add(x.h);
      // a partial first interval starts where the earliest shard's did
      sum.startMs = Math.min(sum.startMs, x.startMs);
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

/**
 * One row per interval end, the shards' figures added, percentiles from the summed
 * histograms; and those histograms (none unless every shard had its log).
 */
export function mergeIntervals(shards: IntervalShard[], intervalMs: number): { rows: IntervalStats[]; histograms: IntervalHistograms } {
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
  const out = [...rows.values()]
    .sort((a, b) => a.tMs - b.tMs)
    .map((r) => {
      const e2e = histograms.get('e2e')?.get(r.tMs)?.h;
      const s = e2e && e2e.totalCount > 0 ? summarize(e2e) : undefined;
      const row: IntervalStats = { ...r, p50: s?.p50 ?? NaN, p99: s?.p99 ?? NaN, max: s?.max ?? NaN };
      const delay = histograms.get('send-delay')?.get(r.tMs)?.h;
      if (delay && delay.totalCount > 0) row.sendDelayP99 = summarize(delay).p99;
      else delete row.sendDelayP99;
      return row;
    });
  return { rows: out, histograms };
}
