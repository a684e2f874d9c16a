/**
 * A "series" is one thing that can be measured again and compared: a system in one
 * matrix cell at one rate, within one scenario. Every SystemResult is one run of a
 * series; repetitions inside a file and separate files of the same scenario are simply
 * more runs. Grouping by this key is what lets report, compare and gate treat
 * "3 files with 1 run" and "1 file with repeat: 3" the same way.
 */
import type { RunResult, SystemResult } from '../../core/result.ts';
import type { LoadedResult } from '../io/inputs.ts';

/**
 * Optional fields read defensively: `rate` (the rate as written in the scenario, e.g.
 * "25%") is not in the schema yet; `repetitions` is the alternative layout in which one
 * SystemResult carries the values of all its repetitions.
 */
export interface SystemResultExtras {
  rate?: unknown;
  repetitions?: unknown;
}

export interface Run {
  file: string;
  /** index of the file among the inputs, for labels when several files are shown */
  fileIndex: number;
  result: RunResult;
  system: SystemResult;
}

export interface SeriesKey {
  scenario: string;
  system: string;
  /** matrix cell label, "" without a matrix */
  cell: string;
  /** rate as written ("max", "10000", "25%"), so fractional rates match across files */
  rate: string;
}

export interface Series extends SeriesKey {
  id: string;
  runs: Run[];
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

/**
 * The rate as the scenario wrote it. For "N%" rates the absolute msg/s comes from a probe
 * and differs from run to run, so it must not be part of the key; the runner's label
 * ("rate=25% (12345/s)") carries the percentage until a `rate` field exists.
 */
export function rateOf(s: SystemResult): string {
  const explicit = text((s as SystemResult & SystemResultExtras).rate);
  if (explicit) return explicit;
  const label = text(s.config.label);
  const pct = /rate=(\d+(?:\.\d+)?%)/.exec(label);
  if (pct) return pct[1]!;
  const perSec = text(s.config.ratePerSec);
  if (perSec) return perSec;
  // A failed run carries no ratePerSec, only its label ("rate=5000 msg/s").
  const fixed = /rate=(\d+(?:\.\d+)?) msg\/s/.exec(label);
  return fixed ? fixed[1]! : 'max';
}

export function cellOf(s: SystemResult): string {
  return s.cell ?? '';
}

export function keyOf(result: RunResult, s: SystemResult): SeriesKey {
  return { scenario: result.scenario, system: s.system, cell: cellOf(s), rate: rateOf(s) };
}

export function seriesId(k: SeriesKey): string {
  return JSON.stringify([k.scenario, k.system, k.cell, k.rate]);
}

/** "ringbuffer", "nats [storage=file]", "nats [storage=file] @ 25%"; the scenario when asked. */
export function seriesLabel(k: SeriesKey, opts: { scenario?: boolean } = {}): string {
  const parts = [opts.scenario ? `${k.scenario}: ${k.system}` : k.system];
  if (k.cell) parts.push(`[${k.cell}]`);
  if (k.rate && k.rate !== 'max') parts.push(`@ ${/^\d+$/.test(k.rate) ? `${k.rate}/s` : k.rate}`);
  return parts.join(' ');
}

/**
 * Groups every system run of the inputs into series, in first-seen order. Failed runs
 * are kept (the report shows them) and filtered by the statistics that need numbers.
 */
export function groupSeries(inputs: LoadedResult[]): Series[] {
  const byId = new Map<string, Series>();
  inputs.forEach((input, fileIndex) => {
    for (const s of input.result.systems) {
      const key = keyOf(input.result, s);
      const id = seriesId(key);
      let series = byId.get(id);
      if (!series) {
        series = { ...key, id, runs: [] };
        byId.set(id, series);
      }
      series.runs.push({ file: input.file, fileIndex, result: input.result, system: s });
    }
  });
  return [...byId.values()];
}

export function usableRuns(series: Series): Run[] {
  return series.runs.filter((r) => r.system.status !== 'failed');
}

/** True when the label needs the scenario to be unambiguous. */
export function manyScenarios(series: Series[]): boolean {
  return new Set(series.map((s) => s.scenario)).size > 1;
}

/** The runs of one series that came from one input file: one table row, one plot line. */
export interface FileSeries {
  series: Series;
  fileIndex: number;
  file: string;
  runs: Run[];
}

export function splitByFile(series: Series[]): FileSeries[] {
  const out: FileSeries[] = [];
  for (const s of series) {
    const byFile = new Map<number, Run[]>();
    for (const r of s.runs) byFile.set(r.fileIndex, [...(byFile.get(r.fileIndex) ?? []), r]);
    for (const [fileIndex, runs] of byFile) out.push({ series: s, fileIndex, file: runs[0]!.file, runs });
  }
  return out.sort((a, b) => a.fileIndex - b.fileIndex);
}
