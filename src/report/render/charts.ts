/**
 * The report's charts, built from result data:
 *
 * - Latency by percentile, as HdrHistogram's plotter draws it: x is log10(1/(1−p)), so
 *   90%, 99%, 99.9% … are equally spaced and the tail gets the room it deserves. One
 *   line per system/config and input file, from the decoded histograms (the runs of one
 *   file merged, which is exact for HDR histograms).
 * - Throughput and latency (p50 dashed, p99 solid) per interval of the measured phase,
 *   one line per run, with the injected fault (if any) shaded; and the consumer backlog
 *   (sent − first deliveries) at each interval's end.
 * - Latency against offered load, for runs whose rate followed a schedule: x is the rate
 *   the schedule offered (per step where the run had steps, per interval for a ramp), y
 *   p99 (solid) and p50 (dashed).
 *
 * The y axis turns logarithmic when the lines span more than LOG_SPAN (a ring buffer in
 * microseconds next to a broker in milliseconds would otherwise lie flat at zero). For
 * throughput the span is taken between the lines' medians, not their extremes: an
 * interval that a fault emptied must not turn one system's chart logarithmic, and a
 * ring at 6 M msg/s must not flatten brokers at 0.1 M onto the axis.
 */
import type * as hdr from 'hdr-histogram-js';
import { decodeHdr } from '../../core/histogram.ts';
import { measuredIntervals } from '../analysis/intervals.ts';
import type { FileSeries, Run } from '../analysis/series.ts';
import { lineChart, linearTicks, logTicks, seriesValues, type Axis, type Band, type LineSeries } from './svg.ts';

const LOG_SPAN = 20;
/** x step of the spectrum in log10(1/(1−p)): 20 points per "nine" */
const SPECTRUM_STEP = 0.05;

/** Axis labels: 3 significant digits at most, no trailing zeros ("50ms", "2.5µs", "1.2M"). */
function trim(v: number): string {
  return String(Number(v.toPrecision(3)));
}

export function tickUs(us: number): string {
  if (us >= 1e6) return `${trim(us / 1e6)}s`;
  if (us >= 1e3) return `${trim(us / 1e3)}ms`;
  return us === 0 ? '0' : `${trim(us)}µs`;
}

export function tickRate(perSec: number): string {
  if (perSec >= 1e6) return `${trim(perSec / 1e6)}M`;
  if (perSec >= 1e3) return `${trim(perSec / 1e3)}k`;
  return trim(perSec);
}

export interface Plotted {
  group: FileSeries;
  label: string;
  color: string;
}

function mergedHistogram(runs: Run[], kind: 'e2e' | 'publish'): { h: hdr.Histogram; maxUs: number } | undefined {
  let merged: hdr.Histogram | undefined;
  let maxUs = 0;
  for (const r of runs) {
    const encoded = r.system.histograms?.[kind];
    if (!encoded || r.system.status === 'failed' || r.system.latency[kind].count === 0) continue;
    const h = decodeHdr(encoded);
    if (merged) merged.add(h);
    else merged = h;
    maxUs = Math.max(maxUs, r.system.latency[kind].max);
  }
  return merged && merged.totalCount > 0 ? { h: merged, maxUs } : undefined;
}

/** (log10(1/(1−p)), µs) points from p = 0 up to the last recorded value. */
export function spectrumPoints(h: hdr.Histogram, maxUs: number, step = SPECTRUM_STEP): Array<[number, number]> {
  const n = h.totalCount;
  const last = Math.log10(Math.max(n, 1));
  const pts: Array<[number, number]> = [];
  for (let x = 0; x < last; x += step) {
    const pct = 100 * (1 - 10 ** -x);
    pts.push([x, Math.min(h.getValueAtPercentile(pct) / 1000, maxUs)]);
  }
  pts.push([last, maxUs]);
  return pts;
}

function percentileLabel(nines: number): string {
  if (nines === 0) return '0%';
  return `${(100 - 100 * 10 ** -nines).toFixed(Math.max(0, nines - 2))}%`;
}

/** x axis ticks at 0%, 90%, 99%, … up to the nines the data reaches (at least 99.9%). */
export function percentileAxis(maxCount: number): Axis {
  const nines = Math.min(7, Math.max(3, Math.ceil(Math.log10(Math.max(maxCount, 1)))));
  return {
    label: 'percentile',
    min: 0,
    max: nines,
    ticks: Array.from({ length: nines + 1 }, (_, k) => ({ value: k, label: percentileLabel(k) })),
  };
}

function valueAxis(label: string, values: number[], format: (v: number) => string, allowLog: boolean): Axis {
  const positive = values.filter((v) => v > 0);
  const lo = positive.length ? Math.min(...positive) : 1;
  const hi = values.length ? Math.max(...values) : 1;
  if (allowLog && hi / lo > LOG_SPAN) {
    const t = logTicks(lo, hi, format);
    return { label: `${label}, log scale`, log: true, ...t };
  }
  const t = linearTicks(0, hi > 0 ? hi : 1, 6, format);
  return { label, ...t };
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)]! : 0;
}

/**
 * Linear while the lines' medians lie within LOG_SPAN of each other; otherwise log, with
 * its floor a decade below the lowest median (an interval at 0 sits on the floor).
 */
function rateAxis(lines: LineSeries[]): Axis {
  const medians = lines.map((l) => median(l.points.flatMap((p) => (p && p[1] > 0 ? [p[1]] : [])))).filter((m) => m > 0);
  const lo = medians.length ? Math.min(...medians) : 0;
  const hi = Math.max(0, ...seriesValues(lines, 1));
  if (lo > 0 && Math.max(...medians) / lo > LOG_SPAN) {
    const t = logTicks(lo / 10, hi, tickRate);
    return { label: 'msg/s, log scale (the systems differ by more than 20×; an empty interval sits on the floor)', log: true, ...t };
  }
  const t = linearTicks(0, hi > 0 ? hi : 1, 6, tickRate);
  return { label: 'msg/s', ...t };
}

export function spectrumChart(kind: 'e2e' | 'publish', plotted: Plotted[]): string | undefined {
  const lines: LineSeries[] = [];
  let maxCount = 0;
  for (const p of plotted) {
    const m = mergedHistogram(p.group.runs, kind);
    if (!m) continue;
    maxCount = Math.max(maxCount, m.h.totalCount);
    lines.push({ label: p.label, color: p.color, points: spectrumPoints(m.h, m.maxUs) });
  }
  if (lines.length === 0) return undefined;
  const x = percentileAxis(maxCount);
  const y = valueAxis('latency', seriesValues(lines, 1), tickUs, true);
  const what = kind === 'e2e' ? 'End-to-end latency (intended send → receipt)' : 'Publish latency (intended send → broker ack)';
  return lineChart({ id: `${kind}-percentiles`, title: `${what} by percentile`, note: 'x: 1/(1−percentile), log scale, as HdrHistogram plots it', x, y, series: lines });
}

function measured(r: Run): Array<{ t: number; received: number; msgsPerSec: number; p50: number; p99: number }> {
  if (r.system.status === 'failed') return [];
  return measuredIntervals(r.system, r.result.parameters).map((i) => ({ t: i.tMs / 1000, received: i.received, msgsPerSec: i.msgsPerSec, p50: i.p50, p99: i.p99 }));
}

function runLabel(p: Plotted, r: Run): string {
  return p.group.runs.length > 1 && r.system.repetition !== undefined ? `${p.label} #${r.system.repetition + 1}` : p.label;
}

/** Repetitions of one series share its colour and fade: 1, 0.7, 0.5, 0.35 … */
function runOpacity(p: Plotted, r: Run): number {
  const k = p.group.runs.indexOf(r);
  return k <= 0 ? 1 : Math.max(0.25, 0.85 ** (k * 2));
}

/** The injected fault of the file these lines come from, shaded on the time axis. */
function faultBand(plotted: Plotted[]): Band[] {
  const f = plotted[0]?.group.runs[0]?.result.parameters.fault;
  return f ? [{ from: f.atMs / 1000, to: (f.atMs + f.downtimeMs) / 1000, label: `fault at ${f.atMs / 1000}s, ${f.downtimeMs / 1000}s down` }] : [];
}

function timeAxis(lines: LineSeries[], bands: Band[]): Axis {
  const ts = [...seriesValues(lines, 0), ...bands.map((b) => b.to)];
  const t = linearTicks(0, ts.length ? Math.max(...ts) : 1, 8, (v) => `${v}s`);
  return { label: 'time since the measured phase started (end of each interval)', ...t };
}

/** Charts of one input file: its runs share a time axis and a fault schedule. */
export interface FileCharts {
  /** suffix for chart ids and titles, e.g. "-2" and " (#2 …json)"; empty for a single file */
  idSuffix: string;
  titleSuffix: string;
  plotted: Plotted[];
}

export function throughputChart(c: FileCharts): string | undefined {
  const lines: LineSeries[] = [];
  for (const p of c.plotted) {
    for (const r of p.group.runs) {
      const pts = measured(r);
      if (pts.length) lines.push({ label: runLabel(p, r), color: p.color, opacity: runOpacity(p, r), points: pts.map((i) => [i.t, i.msgsPerSec]) });
    }
  }
  if (lines.length === 0) return undefined;
  const bands = faultBand(c.plotted);
  const y = rateAxis(lines);
  return lineChart({ id: `throughput-over-time${c.idSuffix}`, title: `Throughput per interval${c.titleSuffix}`, note: 'messages received per second in each interval of the measured phase', x: timeAxis(lines, bands), y, series: lines, bands });
}

export function latencyOverTimeChart(c: FileCharts): string | undefined {
  const lines: LineSeries[] = [];
  for (const p of c.plotted) {
    for (const r of p.group.runs) {
      const pts = measured(r);
      if (!pts.length) continue;
      const label = runLabel(p, r);
      const opacity = runOpacity(p, r);
      // An interval in which nothing arrived has no latency: a gap, not a zero.
      const at = (v: (i: (typeof pts)[number]) => number) => pts.map((i): [number, number] | null => (i.received > 0 && !Number.isNaN(v(i)) ? [i.t, v(i)] : null));
      lines.push({ label: `${label} p99`, color: p.color, opacity, points: at((i) => i.p99) });
      lines.push({ label: `${label} p50`, color: p.color, opacity, dash: '6 4', points: at((i) => i.p50) });
    }
  }
  if (lines.length === 0) return undefined;
  const bands = faultBand(c.plotted);
  const y = valueAxis('latency', seriesValues(lines, 1), tickUs, true);
  return lineChart({ id: `latency-over-time${c.idSuffix}`, title: `End-to-end latency per interval${c.titleSuffix}`, note: 'p99 solid, p50 dashed; gaps: nothing arrived in that interval', x: timeAxis(lines, bands), y, series: lines, bands });
}

export function backlogChart(c: FileCharts): string | undefined {
  const lines: LineSeries[] = [];
  for (const p of c.plotted) {
    for (const r of p.group.runs) {
      if (r.system.status === 'failed') continue;
      const pts = measuredIntervals(r.system, r.result.parameters).flatMap((i) => (i.backlog === undefined ? [] : [[i.tMs / 1000, i.backlog] as [number, number]]));
      if (pts.length) lines.push({ label: runLabel(p, r), color: p.color, opacity: runOpacity(p, r), points: pts });
    }
  }
  if (lines.length === 0) return undefined;
  const bands = faultBand(c.plotted);
  const y = valueAxis('messages', seriesValues(lines, 1), tickRate, true);
  return lineChart({ id: `backlog-over-time${c.idSuffix}`, title: `Consumer backlog${c.titleSuffix}`, note: 'messages handed over and not yet delivered, at the end of each interval: a rising line is consumers falling behind', x: timeAxis(lines, bands), y, series: lines, bands });
}

/**
 * (offered msg/s, p50, p99) of a run that followed a schedule: its steps, or its measured
 * intervals ordered by offered rate; none for a fixed rate (one offered rate is no curve).
 */
export function offeredPoints(r: Run): Array<{ offered: number; p50: number; p99: number }> {
  if (r.system.status === 'failed') return [];
  const steps = r.system.schedule?.steps;
  if (steps && steps.length > 1) return steps.flatMap((s) => (s.p50 === null || s.p99 === null ? [] : [{ offered: s.offeredPerSec, p50: s.p50, p99: s.p99 }]));
  const ivs = measuredIntervals(r.system, r.result.parameters).filter((i) => i.intendedPerSec !== undefined && i.received > 0);
  if (new Set(ivs.map((i) => i.intendedPerSec)).size < 2) return [];
  return ivs.map((i) => ({ offered: i.intendedPerSec!, p50: i.p50, p99: i.p99 })).sort((a, b) => a.offered - b.offered);
}

export function latencyVsOfferedChart(c: FileCharts): string | undefined {
  const lines: LineSeries[] = [];
  for (const p of c.plotted) {
    for (const r of p.group.runs) {
      const pts = offeredPoints(r);
      if (pts.length === 0) continue;
      const label = runLabel(p, r);
      const opacity = runOpacity(p, r);
      lines.push({ label: `${label} p99`, color: p.color, opacity, points: pts.map((q) => [q.offered, q.p99]) });
      lines.push({ label: `${label} p50`, color: p.color, opacity, dash: '6 4', points: pts.map((q) => [q.offered, q.p50]) });
    }
  }
  if (lines.length === 0) return undefined;
  const xs = seriesValues(lines, 0);
  const x = { label: 'offered rate, msg/s (the schedule’s)', ...linearTicks(0, Math.max(...xs), 6, tickRate) };
  const y = valueAxis('latency', seriesValues(lines, 1), tickUs, true);
  return lineChart({ id: `latency-vs-offered${c.idSuffix}`, title: `End-to-end latency vs offered rate${c.titleSuffix}`, note: 'runs with a rate schedule: one point per step (or per interval of a ramp); p99 solid, p50 dashed', x, y, series: lines });
}
