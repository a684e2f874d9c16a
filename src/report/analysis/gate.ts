/**
 * The regression gate. Machines are noisy, so it compares sets of runs, never one number
 * with another.
 *
 * A series fails outright, whatever its numbers, when the current side is not healthy:
 * the baseline has the series and the current side has no run of it; or a current run
 * failed, had delivery errors, has any other status than 'ok' ('warning': the broker's
 * own counts disagree with the ledger, so its figures are not trusted, and the gate
 * fails rather than gate them silently), or recorded no end-to-end latency at all (an
 * empty histogram is no data, not a fast run).
 *
 * Otherwise a series fails on a metric when BOTH hold, over its healthy runs:
 *
 *  1. a one-sided Mann–Whitney U test (baseline runs vs current runs, each run's value
 *     of the metric) says the current runs are worse, with the p-value Holm–Bonferroni
 *     adjusted over every (series × metric) test of this gate ≤ alpha (default 0.05), so
 *     the chance that unchanged code fails ANY row is at most alpha, not alpha per row;
 *  2. the median of the current runs is worse than the median of the baseline runs by
 *     more than --max-regression (latency: (cur − base)/base; throughput: (base − cur)/base).
 *
 * (1) keeps noise from failing the gate, (2) keeps a real but tiny shift from failing it.
 * With too few runs the test cannot reach alpha at all (3 vs 3 is the smallest balanced
 * design: p ≥ 1/C(6,3) = 0.05); then the gate says so and falls back to: fail only when
 * EVERY current run is worse than EVERY baseline run by more than max(threshold, the
 * single-run noise floor, 25% by default), since so few runs cannot show how noisy the
 * machine is. That is a strict rule, but not a statistical one, and not part of Holm's family.
 */
import type { LoadedResult } from '../io/inputs.ts';
import { runValues, worseBy, type Metric } from './metrics.ts';
import { groupSeries, manyScenarios, seriesLabel, type Run, type Series } from './series.ts';
import { DEFAULT_SINGLE_RUN_FLOOR } from './noise.ts';
import { holmAdjust, mannWhitneyGreater, median, runsNeeded, smallestPossibleP } from './stats.ts';

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

/** missing: the baseline has no data for this metric, so there is nothing to gate against */
export type GateStatus = 'fail' | 'pass' | 'missing';

export interface GateFinding {
  series: string;
  metric: string;
  unit: Metric['unit'];
  baseline: number[];
  current: number[];
  /** NaN when that side has no values */
  baselineMedian: number;
  currentMedian: number;
  /** relative change in the bad direction (+ = worse) */
  worse: number;
  /** Mann–Whitney one-sided p; null when the fallback rule decided */
  p: number | null;
  /** p after Holm–Bonferroni over every test of the gate; null without a test */
  pHolm: number | null;
  /** none: a side had no values, so no rule could compare them */
  rule: 'mann-whitney' | 'fallback' | 'none';
  status: GateStatus;
  reason: string;
}

/** A current series that fails before any metric is looked at. */
export interface SeriesProblem {
  series: string;
  reason: string;
}

export interface GateReport {
  findings: GateFinding[];
  /** series that fail for what their current runs are, not for their numbers */
  problems: SeriesProblem[];
  warnings: string[];
  failed: boolean;
  /** false when no series had runs on both sides: the gate checked nothing */
  compared: boolean;
  /** number of tests Holm–Bonferroni corrected for */
  family: number;
}

type DecideOptions = Pick<GateOptions, 'maxRegression' | 'alpha' | 'singleRunFloor'>;

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/** What status 'ok' does not cover, in words; undefined for a run fit to be gated. */
export function runProblem(r: Run): string | undefined {
  const s = r.system;
  const status = String(s.status);
  if (status === 'failed') return `FAILED${s.error ? ` (${s.error})` : ''}`;
  if (status === 'delivery-errors') return `delivery errors${s.error ? ` (${s.error})` : ''}`;
  if (status === 'warning') return `status 'warning'${s.broker?.note ? ` (${s.broker.note})` : ''}: its figures are not trusted, so the gate fails rather than gate them silently`;
  if (status !== 'ok') return `status '${status}'`;
  if (!(s.latency.e2e.count > 0)) return 'no samples: 0 messages in the end-to-end histogram (no data, not 0 µs)';
  return undefined;
}

function healthy(series: Series): Run[] {
  return series.runs.filter((r) => runProblem(r) === undefined);
}

function valuesOf(runs: Run[], m: Metric): number[] {
  return runs.flatMap((r) => runValues(r.system, m));
}

/** Why a current series must fail, or undefined when all its runs are fit to be gated. */
export function seriesProblem(baseline: Series, current: Series | undefined): string | undefined {
  if (!current) return `missing: the baseline has ${baseline.runs.length} run(s) of it, current has none`;
  const byProblem = new Map<string, number>();
  for (const r of current.runs) {
    const p = runProblem(r);
    if (p !== undefined) byProblem.set(p, (byProblem.get(p) ?? 0) + 1);
  }
  if (byProblem.size === 0) return undefined;
  const n = current.runs.length;
  return [...byProblem].map(([p, k]) => `${k} of ${n} current run(s): ${p}`).join('; ');
}

function mannWhitneyReason(worse: number, p: number, pHolm: number, beyond: boolean, opts: DecideOptions): { fail: boolean; reason: string } {
  const significant = pHolm <= opts.alpha;
  const ps = pHolm === p ? `p=${p.toFixed(3)}` : `p=${p.toFixed(3)}, Holm ${pHolm.toFixed(3)}`;
  if (significant && beyond) return { fail: true, reason: `worse by ${pct(worse)} (> ${pct(opts.maxRegression)}) and significant (${ps} ≤ ${opts.alpha})` };
  if (!significant) return { fail: false, reason: `not significant (${ps} > ${opts.alpha})${beyond ? `, though the median moved ${pct(worse)}` : ''}` };
  return { fail: false, reason: `significant (${ps}) but ${pct(worse)} is within the ${pct(opts.maxRegression)} allowed` };
}

/**
 * The decision on one metric. `pHolm`, the p-value after the gate's multiple-comparison
 * correction, defaults to the raw p: a gate of one test.
 */
export function decide(baseline: number[], current: number[], m: Metric, opts: DecideOptions, pHolm?: number): Omit<GateFinding, 'series' | 'metric' | 'unit'> {
  const bm = median(baseline);
  const cm = median(current);
  const worse = worseBy(m, bm, cm);
  const common = { baseline, current, baselineMedian: bm, currentMedian: cm, worse, p: null, pHolm: null };
  if (baseline.length === 0) return { ...common, rule: 'none', status: 'missing', reason: 'no baseline data for this metric: not gated' };
  if (current.length === 0) return { ...common, rule: 'none', status: 'fail', reason: 'no current data for this metric (no data is not a pass)' };
  const beyond = worse > opts.maxRegression;
  if (smallestPossibleP(baseline.length, current.length) <= opts.alpha) {
    // "worse" means larger for latency and smaller for throughput: test the right tail.
    const test = m.better === 'lower' ? mannWhitneyGreater(current, baseline) : mannWhitneyGreater(baseline, current);
    const adjusted = pHolm ?? test.p;
    const { fail, reason } = mannWhitneyReason(worse, test.p, adjusted, beyond, opts);
    return { ...common, p: test.p, pHolm: adjusted, rule: 'mann-whitney', status: fail ? 'fail' : 'pass', reason };
  }
  const bar = Math.max(opts.maxRegression, opts.singleRunFloor ?? DEFAULT_SINGLE_RUN_FLOOR);
  let smallest = Infinity;
  for (const b of baseline) for (const c of current) smallest = Math.min(smallest, worseBy(m, b, c));
  const fail = smallest > bar;
  const reason = fail
    ? `too few runs for the test; every current run is worse than every baseline run by > ${pct(bar)} (at least ${pct(smallest)})`
    : `too few runs for the test; not every run pair is worse by > ${pct(bar)} (median ${pct(worse)})`;
  return { ...common, rule: 'fallback', status: fail ? 'fail' : 'pass', reason };
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

interface Pending {
  series: string;
  metric: Metric;
  baseline: number[];
  current: number[];
}

/** Decides every pending row twice: once to find the tests' p-values, then with Holm's. */
function decideAll(pending: Pending[], opts: GateOptions): GateFinding[] {
  const first = pending.map((x) => decide(x.baseline, x.current, x.metric, opts));
  const tested = first.flatMap((d, i) => (d.p === null ? [] : [i]));
  const adjusted = holmAdjust(tested.map((i) => first[i]!.p!));
  const holm = new Map(tested.map((i, k) => [i, adjusted[k]!]));
  return pending.map((x, i) => ({ series: x.series, metric: x.metric.name, unit: x.metric.unit, ...decide(x.baseline, x.current, x.metric, opts, holm.get(i)) }));
}

function holmWarning(findings: GateFinding[], alpha: number): string | undefined {
  const tests = findings.filter((f) => f.rule === 'mann-whitney');
  const m = tests.length;
  if (m < 2) return undefined;
  const reachable = tests.some((f) => smallestPossibleP(f.baseline.length, f.current.length) <= alpha / m);
  const line = `Holm–Bonferroni over ${m} tests: the smallest p must be ≤ alpha/${m} = ${(alpha / m).toPrecision(2)} before any row can fail`;
  return reachable ? undefined : `${line}, and these run counts cannot get there: no row can fail on its numbers; use at least ${runsNeeded(alpha / m)} runs per side`;
}

function baselineWarnings(base: Series[], label: (s: Series) => string): string[] {
  const out: string[] = [];
  for (const b of base) {
    for (const r of b.runs) {
      const p = runProblem(r);
      if (p !== undefined) out.push(`${label(b)}: baseline run in ${r.file} left out: ${p}`);
    }
  }
  return out;
}

export function runGate(baseline: LoadedResult[], current: LoadedResult[], opts: GateOptions): GateReport {
  const keep = (s: Series): boolean => !opts.systems || opts.systems.includes(s.system);
  const base = groupSeries(baseline).filter(keep);
  const cur = groupSeries(current).filter(keep);
  const withScenario = manyScenarios([...base, ...cur]);
  const label = (s: Series): string => seriesLabel(s, { scenario: withScenario });
  const curById = new Map(cur.map((s) => [s.id, s]));
  const warnings = [...parameterWarnings(baseline, current), ...baselineWarnings(base, label)];
  const problems: SeriesProblem[] = [];
  const pending: Pending[] = [];
  for (const b of base) {
    const c = curById.get(b.id);
    const problem = seriesProblem(b, c);
    if (problem !== undefined) problems.push({ series: label(b), reason: problem });
    if (!c) continue;
    for (const m of opts.metrics) pending.push({ series: label(b), metric: m, baseline: valuesOf(healthy(b), m), current: valuesOf(healthy(c), m) });
  }
  const findings = decideAll(pending, opts);
  const baseIds = new Set(base.map((s) => s.id));
  for (const c of cur) if (!baseIds.has(c.id)) warnings.push(`${label(c)}: no baseline, not gated`);
  if (findings.some((f) => f.rule === 'fallback')) {
    warnings.push(
      `too few runs for a Mann–Whitney test at alpha ${opts.alpha} (need e.g. 3 baseline and 3 current runs at 0.05, 5 and 5 at 0.01); those rows used the fallback: every current run worse than every baseline run by more than max(--max-regression, ${pct(opts.singleRunFloor ?? DEFAULT_SINGLE_RUN_FLOOR)})`,
    );
  }
  const holm = holmWarning(findings, opts.alpha);
  if (holm) warnings.push(holm);
  const compared = problems.length > 0 || findings.some((f) => f.status !== 'missing');
  if (!compared) warnings.push('nothing to gate: no system/configuration has runs in both baseline and current');
  const family = findings.filter((f) => f.rule === 'mann-whitney').length;
  return { findings, problems, warnings, failed: problems.length > 0 || findings.some((f) => f.status === 'fail'), compared, family };
}
