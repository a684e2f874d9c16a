/**
 * Result files in the formats CI benchmark trackers read.
 *
 * github-action-benchmark (tool: customSmallerIsBetter / customBiggerIsBetter): a JSON
 * array of { name, unit, value, range?, extra? }; `range` is free text such as "± 12.5",
 * `extra` free text shown in the tooltip. One file feeds one tool, and a tool has one
 * direction, so latencies (smaller is better) and throughput (bigger is better) are two
 * formats: `gab` and `gab-throughput`.
 *
 * Bencher Metric Format (BMF): { "<benchmark>": { "<measure>": { value, lower_value?,
 * upper_value? } } }. Measures: "throughput" (Bencher's built-in, operations/s = msg/s)
 * and latency-p50/-p99/-p999/-max in nanoseconds, the unit of Bencher's built-in
 * "latency" measure. lower/upper are the noise interval of noise.ts.
 *
 * Benchmark names: "<scenario>/<system>[<cell>]@<rate>", e.g. "tps/nats",
 * "persistence/nats[storage=file]@2000"; the value is the median over all runs.
 */
import { UsageError } from '../../core/errors.ts';
import type { LoadedResult } from './inputs.ts';
import { metricByName, type Metric } from '../analysis/metrics.ts';
import { estimate, type Estimate } from '../analysis/noise.ts';
import { groupSeries, usableRuns, type Series } from '../analysis/series.ts';

export const FORMATS = ['html', 'gab', 'gab-throughput', 'bmf'] as const;
export type Format = (typeof FORMATS)[number];

export function parseFormat(v: string): Format {
  if (!(FORMATS as readonly string[]).includes(v)) throw new UsageError(`--format ${v}: unknown format; valid: ${FORMATS.join(' ')}`);
  return v as Format;
}

export function benchmarkName(s: Series): string {
  return `${s.scenario}/${s.system}${s.cell ? `[${s.cell}]` : ''}${s.rate && s.rate !== 'max' ? `@${s.rate}` : ''}`;
}

export interface GabEntry {
  name: string;
  unit: string;
  value: number;
  range?: string;
  extra?: string;
}

function round(v: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function describeEstimate(e: Estimate, unit: string): string {
  if (e.source === 'repetitions') return `median of ${e.n} runs, range ${round(e.lo)}–${round(e.hi)} ${unit}`;
  return e.lo === e.hi ? '1 run' : `1 run, 95% interval ${round(e.lo)}–${round(e.hi)} ${unit} (${e.source})`;
}

function entries(inputs: LoadedResult[], metricNames: string[]): Array<{ series: Series; metric: Metric; est: Estimate }> {
  const out: Array<{ series: Series; metric: Metric; est: Estimate }> = [];
  for (const series of groupSeries(inputs)) {
    const runs = usableRuns(series);
    for (const name of metricNames) {
      const metric = metricByName(name);
      const est = estimate(runs, metric);
      if (est) out.push({ series, metric, est });
    }
  }
  return out;
}

const GAB_LATENCY = ['p50', 'p99', 'p999', 'max', 'publish-p99'];
const GAB_THROUGHPUT = ['throughput', 'mbps'];

/** github-action-benchmark custom JSON; latencies in µs ("us"), throughput in msg/s and MB/s. */
export function toGab(inputs: LoadedResult[], kind: 'latency' | 'throughput'): GabEntry[] {
  return entries(inputs, kind === 'latency' ? GAB_LATENCY : GAB_THROUGHPUT).map(({ series, metric, est }) => {
    const unit = metric.unit === 'µs' ? 'us' : metric.unit;
    const half = (est.hi - est.lo) / 2;
    return {
      name: `${benchmarkName(series)} ${metric.label}`,
      unit,
      value: round(est.value),
      ...(half > 0 ? { range: `± ${round(half)}` } : {}),
      extra: describeEstimate(est, unit),
    };
  });
}

export interface BmfMetric {
  value: number;
  lower_value?: number;
  upper_value?: number;
}

export type Bmf = Record<string, Record<string, BmfMetric>>;

const BMF_MEASURES: Array<[string, string]> = [
  ['throughput', 'throughput'],
  ['p50', 'latency-p50'],
  ['p99', 'latency-p99'],
  ['p999', 'latency-p999'],
  ['max', 'latency-max'],
];

export function toBmf(inputs: LoadedResult[]): Bmf {
  const out: Bmf = {};
  const measureFor = new Map(BMF_MEASURES);
  for (const { series, metric, est } of entries(inputs, BMF_MEASURES.map(([m]) => m))) {
    const scale = metric.unit === 'µs' ? 1000 : 1; // µs → ns
    const v: BmfMetric = { value: round(est.value * scale) };
    if (est.lo !== est.hi) {
      v.lower_value = round(est.lo * scale);
      v.upper_value = round(est.hi * scale);
    }
    (out[benchmarkName(series)] ??= {})[measureFor.get(metric.name)!] = v;
  }
  return out;
}
