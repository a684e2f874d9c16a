/**
 * The HTML report: one self-contained page (inline CSS and SVG, no script, nothing
 * fetched) that opens from a file, a CI artifact or an e-mail attachment the same way.
 * Every string from a result file is escaped.
 */
import path from 'node:path';
import type { RunResult, SystemResult } from '../../core/result.ts';
import { backlogChart, latencyOverTimeChart, latencyVsOfferedChart, spectrumChart, throughputChart, type FileCharts, type Plotted } from './charts.ts';
import { formatRate, formatUs } from './format.ts';
import { describeDelivery, describeDurability, describeExactlyOnce, type Described } from './describe.ts';
import { escapeXml as esc } from './escape.ts';
import type { LoadedResult } from '../io/inputs.ts';
import { groupSeries, manyScenarios, seriesLabel, splitByFile, type Run } from '../analysis/series.ts';
import { median } from '../analysis/stats.ts';
import { PALETTE } from './svg.ts';
import { notSustained } from '../../checks/schedule.ts';
import { backlogSummary } from '../../checks/backlog-drain.ts';
import { backlogFinding, backlogTrend } from '../../checks/backlog.ts';

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #1b1f24; margin: 24px 32px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.meta { color: #57606a; margin: 0 0 4px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #d0d7de; padding: 4px 6px; vertical-align: top; }
th { background: #f6f8fa; text-align: left; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.text { min-width: 7em; max-width: 20em; }
ul.notes { margin: 4px 0; padding-left: 20px; }
td.bad, span.bad { color: #b3261e; font-weight: 600; }
.range { display: block; color: #57606a; font-size: 11px; white-space: normal; }
.scroll { overflow-x: auto; }
dl.kv { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 4px 0 12px; }
dl.kv dt { color: #57606a; } dl.kv dd { margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; }
pre { background: #f6f8fa; padding: 8px; font-size: 12px; overflow-x: auto; }
svg.chart { display: block; margin: 8px 0 20px; max-width: 100%; height: auto; font-family: system-ui, "DejaVu Sans", sans-serif; }
svg.chart .title { font-size: 15px; font-weight: 600; fill: #1b1f24; }
svg.chart .note, svg.chart .tick { font-size: 12px; fill: #57606a; }
svg.chart .axis-label { font-size: 12px; fill: #1b1f24; }
svg.chart .legend-item text { font-size: 12px; fill: #1b1f24; }
svg.chart .legend-item line { stroke-width: 3; }
svg.chart .grid { stroke: #e6e8eb; stroke-width: 1; }
svg.chart .frame { fill: none; stroke: #8c959f; stroke-width: 1; }
svg.chart path.series { fill: none; stroke-width: 2; stroke-linejoin: round; }
svg.chart .band rect { fill: #f4c542; fill-opacity: 0.25; } svg.chart .band text { font-size: 12px; fill: #7a5d00; }
footer { color: #57606a; margin-top: 32px; font-size: 12px; }
`;

function cell(content: string, cls: 'num' | 'text' = 'text', bad = false, title?: string): string {
  return `<td class="${cls}${bad ? ' bad' : ''}"${title ? ` title="${esc(title)}"` : ''}>${content}</td>`;
}

/**
 * Median of the runs, with their range underneath when there are several. NaN is a run
 * with an empty histogram: it has no value to take a median of, and the cell says so.
 */
function numberCell(all: number[], format: (v: number) => string): string {
  const values = all.filter((v) => !Number.isNaN(v));
  const empty = all.length - values.length;
  if (values.length === 0) return all.length === 0 ? cell('–', 'num') : cell('no data', 'num', true, `${empty} run(s), none with data`);
  const without = empty > 0 ? `; ${empty} of ${all.length} runs had no data` : '';
  if (values.length === 1) return cell(esc(format(values[0]!)) + (empty ? `<span class="range">${empty} run(s) no data</span>` : ''), 'num', empty > 0, without ? `1 run with data${without}` : undefined);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const range = `${esc(format(lo))}–${esc(format(hi))}${empty ? `, ${empty} no data` : ''}`;
  return cell(`${esc(format(median(values)))}<span class="range">${range}</span>`, 'num', empty > 0, `median of ${values.length} runs, range ${format(lo)}–${format(hi)}${without}`);
}

function describedCell(d: Described): string {
  return cell(esc(d.text), 'text', d.bad, d.detail);
}

/** What went wrong in a row's runs, for the notes under the table. */
/** a warning says which count disagreed, or what else made the run one (a backlog that never drained) */
function warningNote(r: SystemResult): string {
  if (r.partitions?.agrees === false) return `broker count disagrees: ${r.partitions.note}`;
  if (r.broker?.agrees === false) return `broker count disagrees: ${r.broker.note ?? ''}`;
  return `warning: ${r.error ?? ''}`;
}

function problems(runs: SystemResult[]): string[] {
  const out = runs.flatMap((r) => (r.status === 'failed' ? [`FAILED: ${r.error ?? 'unknown error'}`] : r.status === 'delivery-errors' ? [`delivery errors${r.error ? `: ${r.error}` : ''}`] : r.status === 'warning' ? [warningNote(r)] : []));
  return [...new Set([...out, ...runs.flatMap(scheduleProblem)])];
}

/** Consumers that fell behind, or latency that is mostly a steady queue: said beside the figures. */
function backlogNotes(runs: Run[]): string[] {
  const out = runs.flatMap((r) => {
    // a backlog run's queue is the experiment: its build and drain, not a lag finding
    if (r.system.backlog) return [backlogSummary(r.system.backlog, formatRate)];
    const trend = r.system.status === 'failed' ? undefined : backlogTrend(r.system.intervals, r.result.parameters.intervalMs);
    const finding = trend && backlogFinding(trend, r.system.throughput.msgsPerSec, formatRate);
    return finding ? [finding] : [];
  });
  return [...new Set(out)];
}

/** A fixed-rate run whose producers fell behind: a finding about the load, shown beside its figures. */
function scheduleProblem(r: SystemResult): string[] {
  const finding = r.status === 'failed' || !r.schedule ? undefined : notSustained(r.schedule, formatRate);
  return finding ? [finding] : [];
}

/** Send-delay p99 of fixed-rate runs, marked when a schedule was not kept. */
function scheduleCell(runs: SystemResult[]): string {
  const fixed = runs.filter((r) => r.schedule);
  if (fixed.length === 0) return cell('–', 'num');
  const missed = fixed.flatMap(scheduleProblem);
  const values = fixed.map((r) => r.schedule!.sendDelayP99Us ?? NaN).filter((v) => !Number.isNaN(v));
  const text = values.length === 0 ? 'no data' : formatUs(median(values));
  return cell(esc(text) + (missed.length ? '<span class="range">schedule not kept</span>' : ''), 'num', missed.length > 0, missed.join('; ') || undefined);
}

function statusCell(runs: SystemResult[]): string {
  const failed = runs.filter((r) => r.status === 'failed').length;
  const errors = runs.filter((r) => r.status === 'delivery-errors').length;
  const warnings = runs.filter((r) => r.status === 'warning').length;
  if (failed === 0 && errors === 0 && warnings === 0) return cell('ok');
  const of = (n: number): string => (runs.length > 1 ? ` (${n}/${runs.length})` : '');
  const disagree = runs.some((r) => r.status === 'warning' && r.broker?.agrees === false);
  const text = [failed ? `FAILED${of(failed)}` : '', errors ? `delivery errors${of(errors)}` : '', warnings ? `${disagree ? 'broker count disagrees' : 'warning'}${of(warnings)}` : ''].filter(Boolean).join(', ');
  return cell(esc(text), 'text', true, problems(runs).join('; '));
}

function comparisonTable(rows: Plotted[], showFile: boolean): string {
  const head = [
    ...(showFile ? ['file'] : []),
    'system / configuration',
    'runs',
    'msg/s',
    'MB/s',
    'p50',
    'p99',
    'p99.9',
    'max',
    'publish p99',
    'send delay p99',
    'CPU s/M msg',
    'durability',
    'exactly-once',
    'lost · dup · ooo',
    'status',
  ];
  const body = rows.map(({ group, label, color }) => {
    const all = group.runs.map((r) => r.system);
    const ok = all.filter((s) => s.status !== 'failed');
    const lat = (f: (s: SystemResult) => number): number[] => ok.map(f);
    return [
      '<tr>',
      ...(showFile ? [cell(`#${group.fileIndex + 1}`, 'num', false, group.file)] : []),
      cell(`<span style="color:${esc(color)}">■</span> ${esc(label)}`),
      cell(String(all.length), 'num'),
      numberCell(lat((s) => s.throughput.msgsPerSec), formatRate),
      numberCell(lat((s) => s.throughput.bytesPerSec / 1e6), (v) => v.toFixed(1)),
      numberCell(lat((s) => s.latency.e2e.p50), formatUs),
      numberCell(lat((s) => s.latency.e2e.p99), formatUs),
      numberCell(lat((s) => s.latency.e2e.p999), formatUs),
      numberCell(lat((s) => s.latency.e2e.max), formatUs),
      numberCell(ok.filter((s) => s.latency.publish.count > 0).map((s) => s.latency.publish.p99), formatUs),
      scheduleCell(ok),
      numberCell(ok.flatMap((s) => (typeof s.resources?.cpuSecPerMillion === 'number' ? [s.resources.cpuSecPerMillion] : [])), (v) => v.toFixed(1)),
      describedCell(describeDurability(all)),
      describedCell(describeExactlyOnce(all)),
      describedCell(describeDelivery(ok)),
      statusCell(all),
      '</tr>',
    ].join('');
  });
  const notes = rows.flatMap(({ group, label }) => [
    ...problems(group.runs.map((r) => r.system)).map((p) => `<li><span class="bad">${esc(label)}: ${esc(p)}</span></li>`),
    ...backlogNotes(group.runs).map((p) => `<li>${esc(label)}: ${esc(p)}</li>`),
  ]);
  return [
    `<div class="scroll"><table class="comparison"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>`,
    ...body,
    '</tbody></table></div>',
    notes.length ? `<ul class="notes">${notes.join('')}</ul>` : '',
    '<p class="meta">durability: what the configuration promises, and with an injected fault what happened (acked messages lost, time to recover). lost · dup · ooo: messages lost, duplicated and out of order, summed over the runs. send delay: intended send time to hand-over, fixed-rate runs only. CPU s/M msg: CPU seconds of busbench and the brokers per million messages of the measured window. Hover a cell for details.</p>',
  ].join('\n');
}

function kv(entries: Array<[string, unknown]>): string {
  const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  return `<dl class="kv">${entries
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(show(v))}</dd>`)
    .join('')}</dl>`;
}

function runSection(input: LoadedResult, index: number): string {
  const r: RunResult = input.result;
  const p = r.parameters;
  const e = r.environment;
  const configs = r.systems.map((s) => `<h4>${esc(s.system)}${s.cell ? ` [${esc(s.cell)}]` : ''}${s.repetition !== undefined ? ` #${s.repetition + 1}` : ''}</h4>${kv(Object.entries(s.config))}`);
  return [
    `<h3>#${index + 1} ${esc(path.basename(input.file))}: ${esc(r.scenario)}</h3>`,
    `<p class="meta">${esc(r.startedAt)} → ${esc(r.finishedAt)} · scenario file ${esc(r.scenarioFile)} · ${r.ok ? 'ok' : '<span class="bad">not ok</span>'}</p>`,
    '<h4>parameters</h4>',
    kv(Object.entries(p)),
    '<h4>environment</h4>',
    kv([
      ['CPU', `${e.cpuModel} × ${e.cores} cores`],
      ['memory', `${(e.memoryBytes / 2 ** 30).toFixed(1)} GiB`],
      ['Node', e.node],
      ['OS', e.os],
      ['git commit', e.gitCommit ?? 'unknown'],
      ['host', e.hostname],
      ['clock read', `${e.clockNsPerCall} ns`],
    ]),
    `<details><summary>configuration of every system run</summary>${configs.join('')}</details>`,
  ].join('\n');
}

function section(id: string, title: string, body: string[]): string {
  return `<section id="${id}"><h2>${esc(title)}</h2>\n${body.join('\n')}\n</section>`;
}

export function renderReport(inputs: LoadedResult[], opts: { generatedAt?: Date } = {}): string {
  const series = groupSeries(inputs);
  const groups = splitByFile(series);
  const showFile = inputs.length > 1;
  const withScenario = manyScenarios(series);
  // One row per system/config per file; its colour is the same in every chart.
  const rows: Plotted[] = groups.map((g, i) => ({
    group: g,
    label: `${seriesLabel(g.series, { scenario: withScenario })}${showFile ? ` (#${g.fileIndex + 1})` : ''}`,
    color: PALETTE[i % PALETTE.length]!,
  }));
  // Time series are drawn per input file: runs of one file share a time axis and a fault schedule.
  const perFile: FileCharts[] = inputs.map((input, k) => ({
    idSuffix: showFile ? `-${k + 1}` : '',
    titleSuffix: showFile ? ` (#${k + 1} ${path.basename(input.file)})` : '',
    plotted: rows.filter((p) => p.group.fileIndex === k),
  }));
  const scenarios = [...new Set(inputs.map((i) => i.result.scenario))];
  const charts = (list: Array<string | undefined>, empty: string): string[] => {
    const present = list.filter((c): c is string => c !== undefined);
    return present.length ? present : [`<p class="meta">${esc(empty)}</p>`];
  };
  const generated = (opts.generatedAt ?? new Date()).toISOString();
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>busbench report: ${esc(scenarios.join(', '))}</title>`,
    `<style>${CSS}</style>`,
    '</head><body>',
    `<header><h1>busbench report: ${esc(scenarios.join(', '))}</h1>`,
    `<p class="meta">${inputs.length} result file(s): ${inputs.map((i, k) => `#${k + 1} ${esc(path.basename(i.file))}`).join(', ')}</p>`,
    '<p class="meta">Latency is end-to-end, from each message\'s intended send time to its receipt; with several runs a cell shows the median and, below it, the range.</p></header>',
    section('comparison', 'Comparison', [comparisonTable(rows, showFile)]),
    section('percentiles', 'Latency by percentile', charts([spectrumChart('e2e', rows), spectrumChart('publish', rows)], 'No latency histograms in these results.')),
    section('over-time', 'Over time', charts(perFile.flatMap((c) => [throughputChart(c), latencyOverTimeChart(c), latencyVsOfferedChart(c), backlogChart(c)]), 'No per-interval statistics in these results.')),
    section('runs', 'Parameters and environment', inputs.map(runSection)),
    `<footer>Generated by busbench report at ${esc(generated)} from schema ${esc(inputs[0]?.result.schema ?? '')}. Self-contained: no scripts, no network.</footer>`,
    '</body></html>',
    '',
  ].join('\n');
}
