/**
 * npm run compare -- <a> <b> [--metric throughput,p50,p99,p999,max] [--alpha 0.05] [--noise-floor 5%] [--json]
 *
 * a and b are each a result file, a directory of them or a glob. For every system/config
 * present in both: each metric's value (median over runs), the change from a to b, and
 * a verdict from a two-sided Mann–Whitney test over the runs (rule: src/report/analysis/compare.ts).
 */
import { UsageError } from '../src/core/errors.ts';
import { parseArgs, parsePercent, parseProbability, usageText, type FlagSpec } from '../src/report/io/args.ts';
import { runCli } from '../src/report/io/cli.ts';
import { compareResults, DEFAULT_COMPARE_ALPHA, DEFAULT_NOISE_FLOOR, type ComparisonRow } from '../src/report/analysis/compare.ts';
import { loadResults } from '../src/report/io/inputs.ts';
import { COMPARE_METRICS, formatChange, formatMetric, metricNames, parseMetricList } from '../src/report/analysis/metrics.ts';
import type { Estimate } from '../src/report/analysis/noise.ts';
import { formatTable, palette, type Palette } from '../src/report/render/table.ts';

const FLAGS: FlagSpec[] = [
  { name: 'metric', value: '<m,...>', help: `metrics to compare (default ${COMPARE_METRICS.join(',')}); valid: ${metricNames().join(' ')}` },
  { name: 'alpha', value: '<p>', help: `false-positive rate per row of the two-sided Mann–Whitney test (default ${DEFAULT_COMPARE_ALPHA})` },
  { name: 'noise-floor', value: '<N%>', help: `smallest change of the medians called significant (default ${DEFAULT_NOISE_FLOOR * 100}%)` },
  { name: 'json', help: 'print the comparison as JSON' },
  { name: 'help', help: 'show this help' },
];

function pct(x: number): string {
  return `${Number((x * 100).toFixed(1))}%`;
}

function basis(a: Estimate, b: Estimate): string {
  const one = (e: Estimate): string => (e.source === 'repetitions' ? `${e.n} runs` : e.source === 'point' ? '1 run' : `1 run (${e.source})`);
  return a.source === b.source && a.n === b.n ? one(a) : `${one(a)} vs ${one(b)}`;
}

function verdictText(r: ComparisonRow, c: Palette): string {
  if (r.verdict === 'significant') return r.direction === 'worse' ? c.red('significant, worse') : c.green('significant, better');
  return c.dim(r.verdict);
}

function main(argv: string[]): number {
  const args = parseArgs(argv, FLAGS);
  if (args.booleans.has('help')) {
    process.stdout.write(usageText('compare', '<a> <b> [flags]', FLAGS, ['a, b: a result file, a directory of them, or a quoted glob.']) + '\n');
    return 0;
  }
  if (args.positional.length !== 2) throw new UsageError(`expected two results to compare (<a> <b>), got ${args.positional.length}; each may be a file, a directory or a glob`);
  const metrics = parseMetricList(args.values.get('metric') ?? COMPARE_METRICS.join(','));
  const alpha = args.values.has('alpha') ? parseProbability('alpha', args.values.get('alpha')!) : DEFAULT_COMPARE_ALPHA;
  const floor = args.values.has('noise-floor') ? parsePercent('noise-floor', args.values.get('noise-floor')!, { max: 10 }) : DEFAULT_NOISE_FLOOR;
  const a = loadResults([args.positional[0]!]);
  const b = loadResults([args.positional[1]!]);
  const cmp = compareResults(a, b, metrics, { alpha, floor });
  if (args.booleans.has('json')) {
    process.stdout.write(JSON.stringify({ a: a.map((x) => x.file), b: b.map((x) => x.file), ...cmp }, null, 2) + '\n');
    return 0;
  }
  const c = palette(process.stdout);
  const rows = cmp.rows.map((r) => [r.series, r.metric, formatMetric(r, r.a.value), formatMetric(r, r.b.value), formatChange(r.change), r.p === null ? '–' : r.p.toFixed(3), verdictText(r, c), basis(r.a, r.b)]);
  const out = [
    `a: ${a.map((x) => x.file).join(', ')}`,
    `b: ${b.map((x) => x.file).join(', ')}`,
    '',
    rows.length ? formatTable(['system', 'metric', 'a', 'b', 'change', 'p', 'verdict', 'basis'], rows, { align: ['l', 'l', 'r', 'r', 'r', 'r', 'l', 'l'] }) : 'no system/configuration is present in both a and b',
    '',
    `method: ${cmp.method}.`,
    `significant = p ≤ ${cmp.alpha} and the medians differ by more than the noise floor (${pct(cmp.floor)}); below floor = p ≤ ${cmp.alpha} but a smaller change.`,
    ...(cmp.rows.some((r) => r.verdict === 'not enough runs')
      ? [`not enough runs: with these run counts no data can reach p ≤ ${cmp.alpha}; use at least ${cmp.runsNeeded} runs per side (several files, or repeat: in the scenario). One run's own histogram measures sampling noise within that run, not run-to-run noise, so it gives no verdict.`]
      : []),
    ...cmp.onlyInA.map((s) => `only in a: ${s}`),
    ...cmp.onlyInB.map((s) => `only in b: ${s}`),
    ...cmp.noData,
  ];
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

runCli('compare', main);
