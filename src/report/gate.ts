/**
 * The regression gate. Machines are noisy, so it compares sets of runs, never one number
 * with another. A series fails on a metric when BOTH hold:
 *
 *  1. a one-sided Mann–Whitney U test (baseline runs vs current runs, each run's value
 *     of the metric) says the current runs are worse with p ≤ alpha (default 0.05), and
 *  2. the median of the current runs is worse than the median of the baseline runs by
 *     more than --max-regression (latency: (cur − base)/base; throughput: (base − cur)/base).
 *
 * (1) keeps noise from failing the gate, (2) keeps a real but tiny shift from failing it.
 * With too few runs the test cannot reach alpha at all (3 vs 3 is the smallest balanced
 * design: p ≥ 1/C(6,3) = 0.05); then the gate says so and falls back to: fail only when
 * EVERY current run is worse than EVERY baseline run by more than max(threshold, the
 * single-run noise floor, 25% by default), since so few runs cannot show how noisy the
 * machine is. That is a strict rule, but not a statistical one.
 */
import type { LoadedResult } from './inputs.ts';
import { runValues, worseBy, type Metric } from './metrics.ts';
import { groupSeries, manyScenarios, seriesLabel, usableRuns, type Series } from './series.ts';
import { DEFAULT_SINGLE_RUN_FLOOR } from './noise.ts';
import { mannWhitneyGreater, median, smallestPossibleP } from './stats.ts';

export const DEFAULT_ALPHA = 0.05;

export interface GateOptions {
  metrics: Metric[];
  /** 0.1 = 10% */
  maxRegression: number;
  alpha: number;
  /** the fallback's minimum change when there are too few runs for the test (default 25%) */
  singleRunFloor?: number;
  /** restrict to these systems */
  systems?: string[];
}

export type GateStatus = 'fail' | 'pass' | 'missing';

export interface GateFinding {
  series: string;
  metric: string;
  unit: Metric['unit'];
  baseline: number[];
  current: number[];
  baselineMedian: number;
  currentMedian: number;
  /** relative change in the bad direction (+ = worse) */
  worse: number;
  /** Mann–Whitney one-sided p; null when the fallback rule decided */
  p: number | null;
  rule: 'mann-whitney' | 'fallback';
  status: GateStatus;
  reason: string;
}

export interface GateReport {
  findings: GateFinding[];
  warnings: string[];
  failed: boolean;
  /** false when no series had runs on both sides: the gate checked nothing */
  compared: boolean;
}

function valuesOf(series: Series, m: Metric): number[] {
  return usableRuns(series).flatMap((r) => runValues(r.system, m));
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

export function decide(baseline: number[], current: number[], m: Metric, opts: Pick<GateOptions, 'maxRegression' | 'alpha' | 'singleRunFloor'>): Omit<GateFinding, 'series' | 'metric' | 'unit'> {
  const bm = median(baseline);
  const cm = median(current);
  const worse = worseBy(m, bm, cm);
  const common = { baseline, current, baselineMedian: bm, currentMedian: cm, worse };
  if (baseline.length === 0 || current.length === 0) {
    return { ...common, p: null, rule: 'fallback', status: 'missing', reason: `no ${baseline.length === 0 ? 'baseline' : 'current'} runs` };
  }
  const beyond = worse > opts.maxRegression;
  if (smallestPossibleP(baseline.length, current.length) <= opts.alpha) {
    // "worse" means larger for latency and smaller for throughput: test the right tail.
    const test = m.better === 'lower' ? mannWhitneyGreater(current, baseline) : mannWhitneyGreater(baseline, current);
    const significant = test.p <= opts.alpha;
    const fail = significant && beyond;
    const reason = fail
      ? `worse by ${pct(worse)} (> ${pct(opts.maxRegression)}) and significant (p=${test.p.toFixed(3)} ≤ ${opts.alpha})`
      : !significant
        ? `not significant (p=${test.p.toFixed(3)} > ${opts.alpha})${beyond ? `, though the median moved ${pct(worse)}` : ''}`
        : `significant (p=${test.p.toFixed(3)}) but ${pct(worse)} is within the ${pct(opts.maxRegression)} allowed`;
    return { ...common, p: test.p, rule: 'mann-whitney', status: fail ? 'fail' : 'pass', reason };
  }
  const bar = Math.max(opts.maxRegression, opts.singleRunFloor ?? DEFAULT_SINGLE_RUN_FLOOR);
  let smallest = Infinity;
  for (const b of baseline) for (const c of current) smallest = Math.min(smallest, worseBy(m, b, c));
  const fail = smallest > bar;
  const reason = fail
    ? `too few runs for the test; every current run is worse than every baseline run by > ${pct(bar)} (at least ${pct(smallest)})`
    : `too few runs for the test; not every run pair is worse by > ${pct(bar)} (median ${pct(worse)})`;
  return { ...common, p: null, rule: 'fallback', status: fail ? 'fail' : 'pass', reason };
}

/** Parameters that change what a run measures: differing ones are worth a warning. */
const COMPARABLE_PARAMETERS = ['mode', 'rate', 'durationMs', 'warmupMs', 'producers', 'consumers', 'messageSize', 'maxInFlight', 'batchSize', 'workUs', 'brokers'] as const;

function parameterWarnings(baseline: LoadedResult[], current: LoadedResult[]): string[] {
  const out: string[] = [];
  for (const p of COMPARABLE_PARAMETERS) {
    const values = (set: LoadedResult[]): string[] => [...new Set(set.map((r) => JSON.stringify(r.result.parameters[p])))];
    const b = values(baseline);
    const c = values(current);
    if (b.join() !== c.join()) out.push(`parameter ${p} differs: baseline ${b.join('/')}, current ${c.join('/')}`);
  }
  const host = (set: LoadedResult[]): string[] => [...new Set(set.map((r) => `${r.result.environment.cpuModel} ×${r.result.environment.cores}`))];
  if (host(baseline).join() !== host(current).join()) out.push(`machines differ: baseline ${host(baseline).join(', ')}; current ${host(current).join(', ')}`);
  return out;
}

export function runGate(baseline: LoadedResult[], current: LoadedResult[], opts: GateOptions): GateReport {
  const keep = (s: Series): boolean => !opts.systems || opts.systems.includes(s.system);
  const base = groupSeries(baseline).filter(keep);
  const cur = groupSeries(current).filter(keep);
  const withScenario = manyScenarios([...base, ...cur]);
  const curById = new Map(cur.map((s) => [s.id, s]));
  const findings: GateFinding[] = [];
  const warnings = parameterWarnings(baseline, current);
  let tooFew = false;
  for (const b of base) {
    const c = curById.get(b.id);
    for (const m of opts.metrics) {
      const d = decide(valuesOf(b, m), c ? valuesOf(c, m) : [], m, opts);
      if (d.rule === 'fallback' && d.status !== 'missing') tooFew = true;
      findings.push({ series: seriesLabel(b, { scenario: withScenario }), metric: m.name, unit: m.unit, ...d });
    }
  }
  const baseIds = new Set(base.map((s) => s.id));
  for (const c of cur) if (!baseIds.has(c.id)) warnings.push(`${seriesLabel(c, { scenario: withScenario })}: no baseline, not gated`);
  if (tooFew) {
    warnings.push(
      `too few runs for a Mann–Whitney test at alpha ${opts.alpha} (need e.g. 3 baseline and 3 current runs at 0.05, 5 and 5 at 0.01); those rows used the fallback: every current run worse than every baseline run by more than max(--max-regression, ${pct(opts.singleRunFloor ?? DEFAULT_SINGLE_RUN_FLOOR)})`,
    );
  }
  const compared = findings.some((f) => f.status !== 'missing');
  if (!compared) warnings.push('nothing to gate: no system/configuration has runs in both baseline and current');
  return { findings, warnings, failed: findings.some((f) => f.status === 'fail'), compared };
}
