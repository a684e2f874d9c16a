/**
 * compare: per series present on both sides and per metric, the two estimates, the
 * relative difference and whether it is significant or within noise (rule in noise.ts).
 */
import type { LoadedResult } from './inputs.ts';
import type { Metric } from './metrics.ts';
import { DEFAULT_NOISE_FLOOR, DEFAULT_SINGLE_RUN_FLOOR, estimate, judge, type Estimate, type Verdict } from './noise.ts';
import { groupSeries, manyScenarios, seriesLabel, usableRuns, type Series } from './series.ts';

export interface NoiseFloors {
  /** with repetitions on both sides */
  floor: number;
  /** when either side has one run */
  singleRun: number;
}

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
  /** for significant changes: which way it went for the metric */
  direction: 'better' | 'worse' | 'same';
  /** the noise floor that applied */
  floor: number;
}

export interface Comparison {
  rows: ComparisonRow[];
  onlyInA: string[];
  onlyInB: string[];
  floors: NoiseFloors;
}

export function compareResults(a: LoadedResult[], b: LoadedResult[], metrics: Metric[], floors: NoiseFloors = { floor: DEFAULT_NOISE_FLOOR, singleRun: DEFAULT_SINGLE_RUN_FLOOR }): Comparison {
  const sa = groupSeries(a);
  const sb = groupSeries(b);
  const withScenario = manyScenarios([...sa, ...sb]);
  const label = (s: Series): string => seriesLabel(s, { scenario: withScenario });
  const byIdB = new Map(sb.map((s) => [s.id, s]));
  const rows: ComparisonRow[] = [];
  for (const seriesA of sa) {
    const seriesB = byIdB.get(seriesA.id);
    if (!seriesB) continue;
    const runsA = usableRuns(seriesA);
    const runsB = usableRuns(seriesB);
    for (const m of metrics) {
      const ea = estimate(runsA, m);
      const eb = estimate(runsB, m);
      if (!ea || !eb) continue;
      const change = ea.value === 0 ? (eb.value === 0 ? 0 : Infinity) : (eb.value - ea.value) / ea.value;
      const floor = ea.n > 1 && eb.n > 1 ? floors.floor : Math.max(floors.floor, floors.singleRun);
      const verdict = judge(ea, eb, floor);
      const improved = m.better === 'higher' ? change > 0 : change < 0;
      rows.push({
        series: label(seriesA),
        metric: m.label,
        unit: m.unit,
        better: m.better,
        a: ea,
        b: eb,
        change,
        verdict,
        direction: change === 0 ? 'same' : improved ? 'better' : 'worse',
        floor,
      });
    }
  }
  const idsA = new Set(sa.map((s) => s.id));
  return {
    rows,
    onlyInA: sa.filter((s) => !byIdB.has(s.id)).map(label),
    onlyInB: sb.filter((s) => !idsA.has(s.id)).map(label),
    floors,
  };
}
