/**
 * npm run compare -- <a> <b> [--metric throughput,p50,p99,p999,max] [--noise-floor 5%] [--json]
 *
 * a and b are each a result file, a directory of them or a glob. For every system/config
 * present in both: each metric's value (median over runs), the change from a to b, and
 * whether it is significant or within noise (rule: src/report/noise.ts, README).
 */
import { UsageError } from '../src/core/errors.ts';
import { parseArgs, parsePercent, usageText, type FlagSpec } from '../src/report/args.ts';
import { runCli } from '../src/report/cli.ts';
import { compareResults, type ComparisonRow } from '../src/report/compare.ts';
import { loadResults } from '../src/report/inputs.ts';
import { COMPARE_METRICS, formatChange, formatMetric, metricNames, parseMetricList } from '../src/report/metrics.ts';
import { DEFAULT_NOISE_FLOOR, DEFAULT_SINGLE_RUN_FLOOR, type Estimate } from '../src/report/noise.ts';
import { formatTable, palette, type Palette } from '../src/report/table.ts';

const FLAGS: FlagSpec[] = [
  { name: 'metric', value: '<m,...>', help: `metrics to compare (default ${COMPARE_METRICS.join(',')}); valid: ${metricNames().join(' ')}` },
  { name: 'noise-floor', value: '<N%>', help: `smallest change called significant with repeated runs on both sides (default ${DEFAULT_NOISE_FLOOR * 100}%)` },
  { name: 'single-run-floor', value: '<N%>', help: `the same when a side has one run, which cannot show run-to-run noise (default ${DEFAULT_SINGLE_RUN_FLOOR * 100}%)` },
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
  if (r.verdict === 'within noise') return c.dim('within noise');
  return r.direction === 'worse' ? c.red('significant, worse') : c.green('significant, better');
}

function main(argv: string[]): number {
  const args = parseArgs(argv, FLAGS);
  if (args.booleans.has('help')) {
    process.stdout.write(usageText('compare', '<a> <b> [flags]', FLAGS, ['a, b: a result file, a directory of them, or a quoted glob.']) + '\n');
    return 0;
  }
  if (args.positional.length !== 2) throw new UsageError(`expected two results to compare (<a> <b>), got ${args.positional.length}; each may be a file, a directory or a glob`);
  const metrics = parseMetricList(args.values.get('metric') ?? COMPARE_METRICS.join(','));
  const percent = (flag: string, fallback: number): number => (args.values.has(flag) ? parsePercent(flag, args.values.get(flag)!, { max: 10 }) : fallback);
  const floors = { floor: percent('noise-floor', DEFAULT_NOISE_FLOOR), singleRun: percent('single-run-floor', DEFAULT_SINGLE_RUN_FLOOR) };
  const a = loadResults([args.positional[0]!]);
  const b = loadResults([args.positional[1]!]);
  const cmp = compareResults(a, b, metrics, floors);
  if (args.booleans.has('json')) {
    process.stdout.write(JSON.stringify({ a: a.map((x) => x.file), b: b.map((x) => x.file), ...cmp }, null, 2) + '\n');
    return 0;
  }
  const c = palette(process.stdout);
  const rows = cmp.rows.map((r) => [r.series, r.metric, formatMetric(r, r.a.value), formatMetric(r, r.b.value), formatChange(r.change), verdictText(r, c), basis(r.a, r.b)]);
  const out = [
    `a: ${a.map((x) => x.file).join(', ')}`,
    `b: ${b.map((x) => x.file).join(', ')}`,
    '',
    rows.length ? formatTable(['system', 'metric', 'a', 'b', 'change', 'verdict', 'basis'], rows, { align: ['l', 'l', 'r', 'r', 'r', 'l', 'l'] }) : 'no system/configuration is present in both a and b',
    '',
    `significant = the noise intervals of a and b do not overlap AND the change exceeds the noise floor (${pct(floors.floor)} with repeated runs on both sides, ${pct(Math.max(floors.floor, floors.singleRun))} when a side has one run);`,
    'intervals: min–max over the runs when there are several; for one run, the 95% interval from its histogram (percentiles) or its per-interval rates (throughput).',
    ...(cmp.rows.some((r) => r.a.n === 1 || r.b.n === 1) ? ['one run per side cannot show run-to-run noise: repeat the runs (several files, or repeat: in the scenario) for a real verdict.'] : []),
    ...cmp.onlyInA.map((s) => `only in a: ${s}`),
    ...cmp.onlyInB.map((s) => `only in b: ${s}`),
  ];
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

runCli('compare', main);
