/**
 * Synthetic but real-shaped result documents: histograms are recorded into a
 * LatencyRecorder and encoded like the runner does, summaries come from that recorder,
 * so every tool reads them exactly as it reads a real run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeHdr, LatencyRecorder } from '../../src/core/histogram.ts';
import { RESULT_SCHEMA, type IntervalStats, type RunResult, type SystemResult } from '../../src/core/result.ts';
import type { LoadedResult } from '../../src/report/io/inputs.ts';

/** mulberry32: a small seeded PRNG whose successive draws are independent enough for simulations. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SystemSpec {
  system: string;
  cell?: string;
  repetition?: number;
  /** median latency in µs; values spread log-uniformly up to ~20x with a long tail */
  p50Us?: number;
  msgsPerSec?: number;
  seed?: number;
  samples?: number;
  durable?: boolean;
  status?: SystemResult['status'];
  error?: string;
  ratePerSec?: number | 'max';
  label?: string;
  lost?: number;
  durability?: Record<string, unknown>;
  /** interval count in the measured window */
  intervals?: number;
  /** multiply every value (a slowdown) */
  scale?: number;
}

function recorder(spec: SystemSpec): LatencyRecorder {
  const rnd = rng(spec.seed ?? 1);
  const rec = new LatencyRecorder();
  const base = (spec.p50Us ?? 100) * 1000 * (spec.scale ?? 1);
  for (let i = 0; i < (spec.samples ?? 20000); i++) {
    // half below the median, a tail that reaches ~50x the median
    const u = rnd();
    const v = u < 0.5 ? base * (0.3 + 1.4 * u) : base * Math.exp(((u - 0.5) / 0.5) ** 3 * Math.log(50));
    rec.record(v);
  }
  return rec;
}

export function systemResult(spec: SystemSpec): SystemResult {
  const e2e = recorder(spec);
  const publish = recorder({ ...spec, p50Us: (spec.p50Us ?? 100) / 2, seed: (spec.seed ?? 1) + 1000 });
  const rate = spec.msgsPerSec ?? 50_000;
  const n = spec.intervals ?? 5;
  const rnd = rng((spec.seed ?? 1) + 7);
  const intervals: IntervalStats[] = Array.from({ length: n }, (_, i) => ({
    tMs: (i + 1) * 1000,
    phase: 'measure' as const,
    received: rate,
    msgsPerSec: rate * (0.95 + 0.1 * rnd()),
    p50: (spec.p50Us ?? 100) * (0.9 + 0.2 * rnd()),
    p99: (spec.p50Us ?? 100) * 10 * (0.9 + 0.2 * rnd()),
    max: (spec.p50Us ?? 100) * 50,
  }));
  const s: SystemResult = {
    system: spec.system,
    config: { label: spec.label ?? '', ratePerSec: spec.ratePerSec ?? 'max' },
    capabilities: { durability: spec.durable ? 'process-crash' : 'none', acks: true, perProducerOrdering: true, deduplication: false, transactions: false, idempotencyRecord: 'message-id' },
    status: spec.status ?? 'ok',
    throughput: { msgsPerSec: rate, bytesPerSec: rate * 512, measuredMs: n * 1000, receivedInWindow: rate * n },
    latency: { e2e: e2e.summary(), publish: publish.summary() },
    delivery: { sent: rate * n, acked: rate * n, failed: 0, unknown: 0, received: rate * n, lost: spec.lost ?? 0, ackedLost: 0, unackedDelivered: 0, duplicated: 0, outOfOrder: 0 },
    intervals,
    histograms: { e2e: encodeHdr(e2e.toHdr()), publish: encodeHdr(publish.toHdr()), unit: 'ns' },
    peakRssBytes: 100e6,
  };
  if (spec.cell) s.cell = spec.cell;
  if (spec.repetition !== undefined) s.repetition = spec.repetition;
  if (spec.error) s.error = spec.error;
  if (spec.durability) s.durability = spec.durability;
  return s;
}

export function runResult(systems: SystemResult[], opts: { scenario?: string; workUs?: number; fault?: { atMs: number; downtimeMs: number } } = {}): RunResult {
  return {
    schema: RESULT_SCHEMA,
    scenario: opts.scenario ?? 'tps',
    scenarioFile: `scenarios/${opts.scenario ?? 'tps'}.yaml`,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:10.000Z',
    parameters: {
      systems: [...new Set(systems.map((s) => s.system))],
      mode: 'closed',
      rate: 'max',
      rates: ['max'],
      durationMs: 5000,
      warmupMs: 1000,
      drainTimeoutMs: 30000,
      producers: 1,
      consumers: 1,
      messageSize: 512,
      maxInFlight: 1000,
      batchSize: 128,
      intervalMs: 1000,
      workUs: opts.workUs ?? 0,
      ...(opts.fault ? { fault: opts.fault } : {}),
      brokers: 'native',
    },
    scenarioOptions: {},
    environment: { cpuModel: 'Test CPU', cores: 2, memoryBytes: 2 ** 34, node: 'v20.0.0', os: 'Linux', gitCommit: 'abc', hostname: 'test', clockNsPerCall: 20 },
    systems,
    cells: [],
    ok: systems.every((s) => s.status === 'ok'),
  };
}

export function loaded(result: RunResult, file = 'mem.json'): LoadedResult {
  return { file, result };
}

export function tmpDir(prefix = 'busbench-report-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeResult(dir: string, name: string, result: RunResult): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(result));
  return file;
}
