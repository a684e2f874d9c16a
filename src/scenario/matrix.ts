/**
 * Configuration matrices: a scenario's `matrix` names option values per system, every
 * combination of one system's keys is a cell, and `repeat` runs each cell R times.
 * Repetitions are interleaved (cell order rotates each round) so that drift in the
 * machine's speed spreads evenly across cells instead of favouring whichever ran first.
 */
import type { CellSummary, Spread, SystemResult } from '../core/result.ts';
import type { Scenario } from './scenario.ts';

export interface Cell {
  /** e.g. "storage=file,replicas=1"; empty when the system has no matrix keys */
  label: string;
  /** the system's section of the scenario with this cell's values applied */
  raw: Record<string, unknown>;
}

export function cellsFor(system: string, s: Scenario): Cell[] {
  const base = s.systemOptions[system];
  const section = typeof base === 'object' && base !== null && !Array.isArray(base) ? (base as Record<string, unknown>) : {};
  let cells: Cell[] = [{ label: '', raw: { ...section } }];
  for (const [key, values] of Object.entries(s.matrix)) {
    const [sys, ...rest] = key.split('.');
    if (sys !== system) continue;
    const option = rest.join('.');
    cells = cells.flatMap((c) =>
      values.map((v) => ({
        label: c.label ? `${c.label},${option}=${String(v)}` : `${option}=${String(v)}`,
        raw: { ...c.raw, [option]: v },
      })),
    );
  }
  return cells;
}

/** Round r runs the cells rotated by r: each cell takes each position equally often. */
export function interleave<T>(cells: T[], round: number): T[] {
  const k = cells.length === 0 ? 0 : round % cells.length;
  return [...cells.slice(k), ...cells.slice(0, k)];
}

/**
 * Median and range of the repetitions that have a value: a repetition with no data (an
 * empty histogram's NaN) is left out, not sorted among the numbers; none at all is NaN
 * (null in JSON), never 0.
 */
export function spread(values: number[]): Spread {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0] ?? NaN, max: sorted[sorted.length - 1] ?? NaN, values };
}

/** Median and spread per (system, cell, rate) over the repetitions that completed. */
export function summarizeCells(results: SystemResult[]): CellSummary[] {
  const groups = new Map<string, SystemResult[]>();
  for (const r of results) {
    if (r.status === 'failed') continue;
    const key = JSON.stringify([r.system, r.cell ?? '', String(r.config.ratePerSec ?? '')]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.entries()].map(([key, rs]) => {
    const [system, cell, rate] = JSON.parse(key) as [string, string, string];
    return {
      system,
      cell,
      rate,
      repetitions: rs.length,
      msgsPerSec: spread(rs.map((r) => r.throughput.msgsPerSec)),
      p50: spread(rs.map((r) => r.latency.e2e.p50)),
      p99: spread(rs.map((r) => r.latency.e2e.p99)),
      p999: spread(rs.map((r) => r.latency.e2e.p999)),
      max: spread(rs.map((r) => r.latency.e2e.max)),
    };
  });
}
