/**
 * The metrics compare, gate and the tracker formats know, with the direction that is
 * "better" and where each value comes from. Latencies are end-to-end unless prefixed
 * "publish-" (send → broker ack), in microseconds like the result file.
 */
import { UsageError } from '../../core/errors.ts';
import type { LatencySummary } from '../../core/histogram.ts';
import type { SystemResult } from '../../core/result.ts';
import { formatRate, formatUs } from '../render/format.ts';
import type { SystemResultExtras } from './series.ts';

type SummaryField = keyof Omit<LatencySummary, 'count' | 'min'>;

export interface Metric {
  name: string;
  /** column header */
  label: string;
  unit: 'msg/s' | 'MB/s' | 'µs';
  better: 'higher' | 'lower';
  /** the value of one run */
  value(s: SystemResult): number;
  /** for percentiles: where the histogram-based noise estimate comes from */
  histogram?: { kind: 'e2e' | 'publish'; percentile: number };
  /** the key of this metric in a SystemResult's optional `repetitions` arrays */
  repetitionKey?: string;
}

/** Summary field, label, and the percentile it is (none for max and mean). */
const LATENCY_FIELDS: Array<[SummaryField, string, number | undefined]> = [
  ['p50', 'p50', 50],
  ['p90', 'p90', 90],
  ['p99', 'p99', 99],
  ['p999', 'p99.9', 99.9],
  ['p9999', 'p99.99', 99.99],
  ['max', 'max', undefined],
  ['mean', 'mean', undefined],
];

function latencyMetrics(kind: 'e2e' | 'publish'): Metric[] {
  const prefix = kind === 'e2e' ? '' : 'publish-';
  return LATENCY_FIELDS.map(([field, label, percentile]) => ({
    name: `${prefix}${field}`,
    label: `${prefix}${label}`,
    unit: 'µs' as const,
    better: 'lower' as const,
    value: (s: SystemResult): number => s.latency[kind][field],
    ...(percentile !== undefined ? { histogram: { kind, percentile } } : {}),
    ...(kind === 'e2e' ? { repetitionKey: field } : {}),
  }));
}

export const METRICS: Metric[] = [
  { name: 'throughput', label: 'msg/s', unit: 'msg/s', better: 'higher', value: (s) => s.throughput.msgsPerSec, repetitionKey: 'msgsPerSec' },
  { name: 'mbps', label: 'MB/s', unit: 'MB/s', better: 'higher', value: (s) => s.throughput.bytesPerSec / 1e6 },
  ...latencyMetrics('e2e'),
  ...latencyMetrics('publish'),
];

/** What compare shows by default: the reference document's columns. */
export const COMPARE_METRICS = ['throughput', 'p50', 'p99', 'p999', 'max'];

export function metricNames(): string[] {
  return METRICS.map((m) => m.name);
}

export function metricByName(name: string): Metric {
  const m = METRICS.find((x) => x.name === name);
  if (!m) throw new UsageError(`unknown metric "${name}"; valid: ${metricNames().join(' ')}`);
  return m;
}

/** "p99,throughput" → metrics, each name checked. */
export function parseMetricList(v: string): Metric[] {
  const names = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError(`--metric "${v}": expected one or more of ${metricNames().join(' ')}`);
  return names.map(metricByName);
}

/**
 * The values of one SystemResult: normally one, or one per repetition when the result
 * carries a `repetitions` object of arrays (an alternative layout; the runner today
 * writes one SystemResult per repetition instead).
 */
export function runValues(s: SystemResult, m: Metric): number[] {
  const reps = (s as SystemResult & SystemResultExtras).repetitions;
  if (m.repetitionKey && typeof reps === 'object' && reps !== null) {
    const arr = (reps as Record<string, unknown>)[m.repetitionKey];
    if (Array.isArray(arr)) {
      const nums = arr.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
      if (nums.length > 0) return nums;
    }
  }
  const v = m.value(s);
  return Number.isFinite(v) ? [v] : [];
}

/** Relative change in the bad direction: +0.25 = 25% worse, negative = better. */
export function worseBy(m: Metric, base: number, current: number): number {
  if (base === 0) return current === 0 ? 0 : m.better === 'lower' ? Infinity : -Infinity;
  return m.better === 'lower' ? (current - base) / base : (base - current) / base;
}

/** A value in the unit people read it in: 12.3k msg/s, 412.5 MB/s, 1.84ms. */
export function formatMetric(m: Pick<Metric, 'unit'>, v: number): string {
  // NaN: the median of no values, i.e. no run had data for this metric
  if (Number.isNaN(v)) return 'no data';
  if (!Number.isFinite(v)) return String(v);
  if (m.unit === 'µs') return formatUs(v);
  if (m.unit === 'msg/s') return `${formatRate(v)} msg/s`;
  return `${v.toFixed(1)} MB/s`;
}

/** "+12.3%" / "-4.0%" */
export function formatChange(rel: number): string {
  if (Number.isNaN(rel)) return '–';
  if (!Number.isFinite(rel)) return rel > 0 ? '+∞' : '-∞';
  return `${rel >= 0 ? '+' : ''}${(rel * 100).toFixed(1)}%`;
}
