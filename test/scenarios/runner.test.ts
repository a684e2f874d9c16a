import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runOnce, type RunSpec } from '../../src/harness/runner.ts';
import { adapter } from '../fixtures/broadcast-system.ts';
import { decodeHdr } from '../../src/core/histogram.ts';

const workerModule = new URL('../fixtures/broadcast-system.ts', import.meta.url).href;

function spec(fault: string, extra: Partial<RunSpec> = {}): RunSpec {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-runner-'));
  return {
    system: 'broadcast',
    adapter,
    workerModule,
    options: { fault },
    label: fault,
    runId: `test-${fault}`,
    runDir,
    brokers: 'native',
    externalUrls: {},
    ratePerSec: 10_000,
    load: {
      durationMs: 800,
      warmupMs: 200,
      drainTimeoutMs: 1500,
      intervalMs: 250,
      producers: 2,
      consumers: 1,
      messageSize: 512,
      maxInFlight: 1000,
      batchSize: 32,
      workUs: 0,
    },
    ...extra,
  };
}

/** 5000 msg/s per producer over 200 ms of warm-up and 800 ms measured */
const PER_PRODUCER = 1000 + 4000;

describe('runner over a real cross-thread transport', () => {
  it('accounts for every message of a clean run and records only the measured window', async () => {
    const r = await runOnce(spec('none'));
    expect(r.status).toBe('ok');
    const d = r.delivery;
    // Open loop at 10k/s, 5k/s per producer: each producer's intended send times are one
    // every 200 µs, so its 200 ms of warm-up hold 1000 of them and its 800 ms window 4000.
    // Every one is sent; only the window's are in the latency histogram.
    expect(d.sent).toBe(2 * PER_PRODUCER);
    expect(d.received).toBe(d.sent);
    expect(d.lost + d.duplicated + d.outOfOrder + d.ackedLost).toBe(0);
    expect(r.latency.e2e.count).toBe(2 * 4000);
    expect(decodeHdr(r.histograms.e2e).totalCount).toBe(r.latency.e2e.count);
    expect(r.intervals.length).toBeGreaterThanOrEqual(3);
  });

  it('catches a transport that drops messages', async () => {
    const r = await runOnce(spec('drop'));
    expect(r.status).toBe('delivery-errors');
    // the transport drops every 97th message of each producer's 5000
    expect(r.delivery.sent).toBe(PER_PRODUCER * 2);
    expect(r.delivery.lost).toBe(2 * Math.floor(PER_PRODUCER / 97));
    expect(r.delivery.ackedLost).toBe(r.delivery.lost);
    expect(r.error).toMatch(/lost/);
  });

  it('catches duplicates', async () => {
    const r = await runOnce(spec('duplicate'));
    expect(r.status).toBe('delivery-errors');
    // the transport sends every 89th message of each producer's 5000 twice
    expect(r.delivery.sent).toBe(PER_PRODUCER * 2);
    expect(r.delivery.duplicated).toBe(2 * Math.floor(PER_PRODUCER / 89));
    expect(r.delivery.lost).toBe(0);
  });

  it('catches reordering within a producer', async () => {
    const r = await runOnce(spec('reorder'));
    expect(r.status).toBe('delivery-errors');
    expect(r.delivery.outOfOrder).toBeGreaterThan(0);
  });
});
