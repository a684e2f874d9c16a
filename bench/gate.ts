/**
 * npm run gate -- --baseline <file|dir|glob> [--current <file|dir|glob>] [--metric p99]
 *                 [--max-regression 10%] [--alpha 0.05] [--systems a,b] [--json]
 *
 * Exit 0: nothing regressed. 1: some metric regressed beyond the threshold, or a current
 * series is missing, failed, had delivery errors, a warning or no samples (rules in
 * src/report/analysis/gate.ts and the README). 2: bad flags, values or input files.
 */
import path from 'node:path';
import { UsageError } from '../src/core/errors.ts';
import { parseArgs, parsePercent, parseProbability, usageText, type FlagSpec } from '../src/report/io/args.ts';
import { runCli } from '../src/report/io/cli.ts';
import { DEFAULT_ALPHA, runGate, type GateFinding } from '../src/report/analysis/gate.ts';
import { loadResults, newestResult } from '../src/report/io/inputs.ts';
import { formatChange, formatMetric, metricNames, parseMetricList } from '../src/report/analysis/metrics.ts';
import { DEFAULT_SINGLE_RUN_FLOOR } from '../src/report/analysis/noise.ts';
import { formatTable, palette, type Palette } from '../src/report/render/table.ts';

const FLAGS: FlagSpec[] = [
  { name: 'baseline', value: '<file|dir|glob>', repeatable: true, help: 'baseline runs (required; repeat the flag or use a glob for several)' },
  { name: 'current', value: '<file|dir|glob>', repeatable: true, help: 'current runs (default: the newest results/*.json)' },
  { name: 'metric', value: '<m,...>', help: `metric(s) to gate on (default p99); valid: ${metricNames().join(' ')}` },
  { name: 'max-regression', value: '<N%>', help: 'allowed worsening of the median (default 10%)' },
  { name: 'alpha', value: '<p>', help: `family-wise false-alarm rate: one-sided Mann–Whitney U tests, Holm–Bonferroni corrected (default ${DEFAULT_ALPHA})` },
  { name: 'single-run-floor', value: '<N%>', help: `too few runs for the test: the smallest change that fails (default ${DEFAULT_SINGLE_RUN_FLOOR * 100}%)` },
  { name: 'systems', value: '<a,b,...>', help: 'gate only these systems' },
  { name: 'json', help: 'print the findings as JSON' },
  { name: 'help', help: 'show this help' },
];

const NOTES = [
  'A current system/config fails outright when it is missing (the baseline has it), or any of its runs failed,',
  "had delivery errors, has status 'warning' (broker counts disagree with the ledger) or recorded no samples.",
  'Otherwise it fails on a metric when BOTH: the one-sided Mann–Whitney U test on the per-run values says',
  'current is worse, with p Holm–Bonferroni-adjusted over every (system × metric) test ≤ alpha, AND the current',
  'median is worse than the baseline median by more than --max-regression. With too few runs for the test to',
  'reach alpha (e.g. fewer than 3 + 3 at 0.05), it fails only when every current run is worse than every',
  'baseline run by more than the larger of --max-regression and --single-run-floor.',
  'Exit codes: 0 pass, 1 regression or unhealthy current runs, 2 bad input.',
];

function statusText(f: GateFinding, c: Palette): string {
  if (f.status === 'fail') return c.red('REGRESSED');
  if (f.status === 'missing') return c.yellow('missing');
  return c.green('ok');
}

function main(argv: string[]): number {
  const args = parseArgs(argv, FLAGS);
  if (args.booleans.has('help')) {
    process.stdout.write(usageText('gate', '--baseline <file|dir|glob> [flags]', FLAGS, NOTES) + '\n');
    return 0;
  }
  if (args.positional.length > 0) throw new UsageError(`unexpected argument "${args.positional[0]}"; give files with --baseline and --current`);
  const baselineArgs = args.lists.get('baseline');
  if (!baselineArgs) throw new UsageError('--baseline <file|dir|glob> is required');
  const metrics = parseMetricList(args.values.get('metric') ?? 'p99');
  const maxRegression = parsePercent('max-regression', args.values.get('max-regression') ?? '10%', { max: 100 });
  const alpha = args.values.has('alpha') ? parseProbability('alpha', args.values.get('alpha')!) : DEFAULT_ALPHA;
  const singleRunFloor = args.values.has('single-run-floor') ? parsePercent('single-run-floor', args.values.get('single-run-floor')!, { max: 100 }) : DEFAULT_SINGLE_RUN_FLOOR;
  const systems = args.values.get('systems')?.split(',').map((s) => s.trim()).filter(Boolean);
  const baseline = loadResults(baselineArgs);
  let currentArgs = args.lists.get('current');
  if (!currentArgs) {
    const newest = newestResult('results');
    if (!newest) throw new UsageError('--current not given and results/ holds no result file');
    currentArgs = [newest];
  }
  const current = loadResults(currentArgs);
  const overlap = current.filter((c) => baseline.some((b) => path.resolve(b.file) === path.resolve(c.file)));
  if (overlap.length) throw new UsageError(`${overlap[0]!.file} is both baseline and current`);
  if (systems) {
    const known = new Set(baseline.flatMap((b) => b.result.systems.map((s) => s.system)));
    for (const s of systems) if (!known.has(s)) throw new UsageError(`--systems: "${s}" is not in the baseline; present: ${[...known].join(', ')}`);
  }

  const report = runGate(baseline, current, { metrics, maxRegression, alpha, singleRunFloor, ...(systems ? { systems } : {}) });
  if (!report.compared) throw new UsageError(report.warnings[report.warnings.length - 1]!);
  if (args.booleans.has('json')) {
    process.stdout.write(JSON.stringify({ baseline: baseline.map((b) => b.file), current: current.map((c) => c.file), maxRegression, alpha, ...report }, null, 2) + '\n');
    return report.failed ? 1 : 0;
  }
  const c = palette(process.stdout);
  const rows = report.findings.map((f) => [
    f.series,
    f.metric,
    `${formatMetric(f, f.baselineMedian)} (${f.baseline.length})`,
    `${formatMetric(f, f.currentMedian)} (${f.current.length})`,
    formatChange(f.worse),
    f.p === null ? '–' : f.p.toFixed(3),
    f.pHolm === null ? '–' : f.pHolm.toFixed(3),
    statusText(f, c),
    f.reason,
  ]);
  const failed = report.findings.filter((f) => f.status === 'fail');
  const reasons = [
    ...report.problems.map((p) => `${p.series}: ${p.reason}`),
    ...failed.map((f) => `${f.series} ${f.metric} ${formatMetric(f, f.baselineMedian)} → ${formatMetric(f, f.currentMedian)} (${f.current.length ? `${formatChange(f.worse)} worse` : f.reason})`),
  ];
  const correction =
    report.family > 1 ? `Holm–Bonferroni over ${report.family} tests (family-wise false-alarm rate ≤ ${alpha})` : report.family === 1 ? 'one test, no correction needed' : 'no row had enough runs for the test';
  const lines = [
    `gate: ${metrics.map((m) => m.name).join(', ')}, max regression ${(maxRegression * 100).toFixed(1)}%, one-sided Mann–Whitney U at alpha ${alpha}; ${correction}`,
    `baseline: ${baseline.length} file(s); current: ${current.length} file(s)`,
    '',
    formatTable(['system', 'metric', 'baseline median (runs)', 'current median (runs)', 'worse by', 'p', 'Holm p', 'verdict', 'why'], rows, { align: ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'l', 'l'] }),
    ...(report.problems.length ? ['', ...report.problems.map((p) => c.red(`FAIL ${p.series}: ${p.reason}`))] : []),
    ...(report.warnings.length ? ['', ...report.warnings.map((w) => c.yellow(`warning: ${w}`))] : []),
    '',
    reasons.length ? c.red(`gate: FAIL: ${reasons.join('; ')}`) : c.green(`gate: pass (${report.findings.length} check(s))`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return report.failed ? 1 : 0;
}

runCli('gate', main);
