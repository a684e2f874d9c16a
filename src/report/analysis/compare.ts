/**
 * compare: per series present on both sides and per metric, the two estimates, the
 * relative difference and a verdict from a test whose false-positive rate is known.
 *
 * The test: two-sided exact Mann–Whitney U on the per-run values (each run one sample),
 * at alpha (default 0.05). When a and b come from the same distribution, whatever its
 * shape, a row is called significant with probability at most alpha; that is the
 * false-positive rate, per row (R rows of unchanged code: about alpha·R false flags).
 * Run-to-run noise is what matters on a shared machine, and only repeated runs show it,
 * so one run's own histogram interval never decides: with too few runs for the test to
 * reach alpha (fewer than 4 per side at 0.05), the verdict is "not enough runs".
 * A significant change smaller than the noise floor is reported as below it.
 */
import type { LoadedResult } from '../io/inputs.ts';
import { runValues, type Metric } from './metrics.ts';
import { estimate, type Estimate } from './noise.ts';
import { groupSeries, manyScenarios, seriesLabel, usableRuns, type Run, type Series } from './series.ts';
import { mannWhitneyTwoSided, median, runsNeeded, smallestPossibleP } from './stats.ts';

export const DEFAULT_COMPARE_ALPHA = 0.05;
/** Default smallest relative change called significant, however sure the test is. */
export const DEFAULT_NOISE_FLOOR = 0.05;

export interface CompareOptions {
  alpha: number;
  /** 0.05 = 5% */
  floor: number;
}

export type Verdict = 'significant' | 'within noise' | 'below floor' | 'not enough runs';

export interface ComparisonRow {
  series: string;
  metric: string;
  unit: Metric['unit'];
  better: 'higher' | 'lower';
  a: Estimate;
  b: Estimate;
  /** (b − a) / a */
  change: number;
  verdict: Verdict;
  /** two-sided Mann–Whitney p over the runs; null when there are too few runs for the test */
  p: number | null;
  /** for significant changes: which way it went for the metric */
  direction: 'better' | 'worse' | 'same';
}

export interface Comparison {
  rows: ComparisonRow[];
  onlyInA: string[];
  onlyInB: string[];
  /** "<series> <metric>: no data in b": a side whose runs hold no value (an empty histogram is no data) */
  noData: string[];
  alpha: number;
  floor: number;
  /** the fewest runs per side with which a row can be significant at alpha */
  runsNeeded: number;
  method: string;
}

export function methodText(alpha: number): string {
  return `two-sided exact Mann–Whitney U test on the per-run values at alpha ${alpha}: on unchanged code at most ${Number((alpha * 100).toFixed(2))}% of rows are called significant (per row, not corrected for the number of rows)`;
}

function valuesOf(runs: Run[], m: Metric): number[] {
  return runs.flatMap((r) => runValues(r.system, m));
}

/** The verdict on one metric from the per-run values of each side. */
export function judgeRuns(a: number[], b: number[], opts: CompareOptions): { verdict: Verdict; p: number | null } {
  if (smallestPossibleP(a.length, b.length, 2) > opts.alpha) return { verdict: 'not enough runs', p: null };
  const { p } = mannWhitneyTwoSided(a, b);
  if (p > opts.alpha) return { verdict: 'within noise', p };
  const rel = Math.abs(relativeChange(median(a), median(b)));
  return { verdict: rel > opts.floor ? 'significant' : 'below floor', p };
}

function relativeChange(a: number, b: number): number {
  return a === 0 ? (b === 0 ? 0 : Infinity) : (b - a) / a;
}

function row(label: string, m: Metric, runsA: Run[], runsB: Run[], opts: CompareOptions): ComparisonRow | undefined {
  const ea = estimate(runsA, m);
  const eb = estimate(runsB, m);
  if (!ea || !eb) return undefined;
  const change = relativeChange(ea.value, eb.value);
  const { verdict, p } = judgeRuns(valuesOf(runsA, m), valuesOf(runsB, m), opts);
  const improved = m.better === 'higher' ? change > 0 : change < 0;
  return { series: label, metric: m.label, unit: m.unit, better: m.better, a: ea, b: eb, change, verdict, p, direction: change === 0 ? 'same' : improved ? 'better' : 'worse' };
}

export function compareResults(a: LoadedResult[], b: LoadedResult[], metrics: Metric[], opts: CompareOptions = { alpha: DEFAULT_COMPARE_ALPHA, floor: DEFAULT_NOISE_FLOOR }): Comparison {
  const sa = groupSeries(a);
  const sb = groupSeries(b);
  const withScenario = manyScenarios([...sa, ...sb]);
  const label = (s: Series): string => seriesLabel(s, { scenario: withScenario });
  const byIdB = new Map(sb.map((s) => [s.id, s]));
  const rows: ComparisonRow[] = [];
  const noData: string[] = [];
  for (const seriesA of sa) {
    const seriesB = byIdB.get(seriesA.id);
    if (!seriesB) continue;
    const [runsA, runsB] = [usableRuns(seriesA), usableRuns(seriesB)];
    for (const m of metrics) {
      const r = row(label(seriesA), m, runsA, runsB, opts);
      if (r) rows.push(r);
      else noData.push(`${label(seriesA)} ${m.label}: no data in ${[valuesOf(runsA, m).length ? '' : 'a', valuesOf(runsB, m).length ? '' : 'b'].filter(Boolean).join(' and ')}`);
    }
  }
  const idsA = new Set(sa.map((s) => s.id));
  return {
    rows,
    onlyInA: sa.filter((s) => !byIdB.has(s.id)).map(label),
    onlyInB: sb.filter((s) => !idsA.has(s.id)).map(label),
    noData,
    alpha: opts.alpha,
    floor: opts.floor,
    runsNeeded: runsNeeded(opts.alpha, 2),
    method: methodText(opts.alpha),
  };
}
