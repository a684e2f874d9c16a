/**
 * Result files, written atomically (temp file + rename) and never overwritten: a name
 * that is taken gets a numeric suffix instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeHdr, percentileDistribution } from '../../core/histogram.ts';
import type { Capabilities } from '../../core/contract.ts';
import { RESULT_SCHEMA, type RunResult } from '../../core/result.ts';
import { BusbenchError } from '../../core/errors.ts';
import { linkNoClobber } from '../../core/hlog.ts';

export function writeAtomic(file: string, data: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true }); // nothing half-written stays behind
    throw e;
  }
}

/** `results/<stamp>-<scenario>` with a suffix if anything by that name exists. */
export function uniqueBase(outDir: string, stamp: string, scenario: string): string {
  const base = path.join(outDir, `${stamp}-${scenario}`);
  let candidate = base;
  for (let n = 2; fs.existsSync(`${candidate}.json`) || fs.existsSync(candidate); n++) candidate = `${base}-${n}`;
  return candidate;
}

export function timestampForFile(d: Date): string {
  return d.toISOString().replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z');
}

function slug(s: string): string {
  return s.replace(/[^\w.=-]+/g, '_');
}

export interface WrittenFiles {
  json: string;
  hgrm: string[];
  hlog: string[];
}

/**
 * Writes <base>.json and one <base>.<system>[-<label>].hgrm per system result, and moves
 * each run's interval log to <base>.<system>[-<label>].hlog, recording that name in the result.
 */
export function writeResultFiles(base: string, result: RunResult): WrittenFiles {
  fs.mkdirSync(path.dirname(base), { recursive: true });
  const hgrm: string[] = [];
  const hlog: string[] = [];
  for (const s of result.systems) {
    const label = typeof s.config.label === 'string' && s.config.label ? `-${slug(s.config.label)}` : '';
    const name = `${base}.${slug(s.system)}${label}`;
    if (s.intervalLog && fs.existsSync(s.intervalLog)) {
      let file = `${name}.hlog`;
      for (let n = 2; fs.existsSync(file); n++) file = `${name}-${n}.hlog`;
      linkNoClobber(s.intervalLog, file);
      s.intervalLog = path.basename(file);
      hlog.push(file);
    }
    if (!s.histograms.e2e) continue; // a failed run has no histogram
    writeAtomic(`${name}.hgrm`, percentileDistribution(decodeHdr(s.histograms.e2e)));
    hgrm.push(`${name}.hgrm`);
  }
  const json = `${base}.json`;
  // The JSON goes last: a reader that sees it can rely on the .hgrm files being there.
  writeAtomic(json, JSON.stringify(result, null, 2) + '\n');
  return { json, hgrm, hlog };
}

export function readResultFile(file: string): RunResult {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new BusbenchError('RESULT', `${file}: not a readable result file (${(err as Error).message})`);
  }
  const schema = (doc as { schema?: unknown }).schema;
  if (schema !== RESULT_SCHEMA) throw new BusbenchError('RESULT', `${file}: schema ${JSON.stringify(schema)} is not ${RESULT_SCHEMA}`);
  const result = doc as RunResult;
  restoreNoData(result);
  upgradeCapabilities(result);
  return result;
}

/**
 * Files written before durability had levels say `durable: true|false`, meaning "survives
 * a kill -9" (the only fault there was): that is the middle level.
 */
function upgradeCapabilities(result: RunResult): void {
  for (const s of Array.isArray(result.systems) ? result.systems : []) {
    const c = s.capabilities as Partial<Capabilities> & { durable?: unknown };
    if (c.durability === undefined && typeof c.durable === 'boolean') {
      c.durability = c.durable ? 'process-crash' : 'none';
      delete c.durable;
    }
  }
}

/** Fields that hold a latency or a statistic of latencies, where null in the file means "no data". */
const SUMMARY_FIELDS = ['min', 'mean', 'p50', 'p90', 'p99', 'p999', 'p9999', 'max'];
const INTERVAL_FIELDS = ['p50', 'p99', 'max'];
const SPREAD_FIELDS = ['median', 'min', 'max'];
const CELL_SPREADS = ['p50', 'p99', 'p999', 'max'];

function nullsToNaN(o: unknown, keys: readonly string[]): void {
  if (typeof o !== 'object' || o === null) return;
  const rec = o as Record<string, unknown>;
  for (const k of keys) if (rec[k] === null) rec[k] = NaN;
}

/**
 * An empty summary is NaN in memory and null in the file (JSON has no NaN); reading puts
 * the NaN back, so the types stay true and no tool mistakes "no data" for 0 µs. Every
 * summary under `latency` is restored, including kinds added later.
 */
function restoreNoData(result: RunResult): void {
  for (const s of Array.isArray(result.systems) ? result.systems : []) {
    for (const summary of Object.values(s.latency ?? {})) nullsToNaN(summary, SUMMARY_FIELDS);
    for (const i of Array.isArray(s.intervals) ? s.intervals : []) nullsToNaN(i, INTERVAL_FIELDS);
  }
  for (const c of Array.isArray(result.cells) ? result.cells : []) {
    for (const k of CELL_SPREADS) nullsToNaN((c as unknown as Record<string, unknown>)[k], SPREAD_FIELDS);
  }
}
