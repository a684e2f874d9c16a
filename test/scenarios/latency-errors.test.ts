/**
 * Impossible latencies are counted per histogram in the result and named in its error,
 * never folded silently into the histogram's lowest bucket.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runOnce } from '../../src/harness/runner.ts';
import { adapter } from '../fixtures/broadcast-system.ts';

const workerModule = new URL('../fixtures/broadcast-system.ts', import.meta.url).href;
const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-latency-errors-'));
afterAll(() => fs.rmSync(runDir, { recursive: true, force: true }));

describe('latency errors in the result', () => {
  it('counts negative end-to-end latencies and reports them', async () => {
    const r = await runOnce({
      system: 'broadcast',
      adapter,
      workerModule,
      options: { fault: 'future' },
      label: 'future',
      runId: 'test-latency-errors',
      runDir,
      brokers: 'native',
      externalUrls: {},
      ratePerSec: 5000,
      load: {
        durationMs: 2500,
        warmupMs: 200,
        drainTimeoutMs: 1500,
        intervalMs: 250,
        producers: 1,
        consumers: 1,
        messageSize: 512,
        maxInFlight: 1000,
        batchSize: 32,
        workUs: 0,
      },
    });
    const e2e = r.latencyErrors!.e2e!;
    // one in 101 sent is stamped 1 s ahead; those whose stamp still lies in the window count
    expect(e2e.negative).toBeGreaterThan(0);
    expect(e2e.negative).toBeLessThanOrEqual(Math.ceil(r.delivery.sent / 101));
    expect(e2e.clamped).toBe(0);
    expect(r.latencyErrors!.publish).toEqual({ clamped: 0, negative: 0 });
    expect(r.error).toContain(`${e2e.negative} negative e2e latencies (clock error)`);
    expect(r.resources!.brokers).toBe('not measured');
  });
});
