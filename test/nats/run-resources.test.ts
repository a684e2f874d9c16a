/**
 * A real NATS run through the runner: the result carries the nats-server's own CPU time
 * and peak memory for this run, CPU seconds per million messages, and an interval log
 * whose histograms account for every delivery the consumers recorded.
 */
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import * as hdr from 'hdr-histogram-js';
import { adapter } from '../../src/adapters/nats/index.ts';
import { runOnce } from '../../src/harness/runner.ts';
import { removeRunDirs, runSpec } from '../fixtures/run-spec.ts';

afterAll(removeRunDirs);

function loggedCounts(file: string): number[] {
  const reader = new hdr.HistogramLogReader(fs.readFileSync(file, 'utf8'));
  const out: number[] = [];
  // the producers' send-delay intervals are in the same log under their own tag
  for (let h = reader.nextIntervalHistogram(); h; h = reader.nextIntervalHistogram()) if (h.tag === 'e2e') out.push(h.totalCount);
  return out;
}

describe('nats run resources and interval log', { timeout: 120_000 }, () => {
  it('measures the nats-server process and logs every interval', async () => {
    const r = await runOnce(runSpec(adapter, {}, { load: { intervalMs: 100 } }));
    expect(r.status).toBe('ok');
    const res = r.resources!;
    expect(res.brokers).not.toBe('not measured');
    const brokers = res.brokers as Exclude<typeof res.brokers, 'not measured'>;
    expect(brokers).toHaveLength(1);
    const [nats] = brokers;
    expect(nats!.name).toMatch(/^nats-server /);
    expect(nats!.pid).toBeGreaterThan(0);
    expect(nats!.cpuSec).toBeGreaterThan(0);
    expect(nats!.peakRssBytes).toBeGreaterThan(0);
    expect(res.busbench.cpuSec).toBeGreaterThan(0);
    expect(r.peakRssBytes).toBe(res.busbench.peakRssBytes + nats!.peakRssBytes);
    expect(res.window!.messages).toBe(r.throughput.receivedInWindow);
    expect(res.cpuSecPerMillion).toBe(Math.round((res.window!.cpuSec / res.window!.messages) * 1e9) / 1000);
    expect(res.cpuSecPerMillion).toBeGreaterThan(0);
    expect(r.latencyErrors).toEqual({ e2e: { clamped: 0, negative: 0 }, publish: { clamped: 0, negative: 0 }, redelivery: { clamped: 0, negative: 0 } });

    // every delivery is in exactly one interval, in the log and in the result's rows
    const counts = loggedCounts(r.intervalLog!);
    expect(counts).toEqual(r.intervals.map((i) => i.received));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(r.delivery.received);
    expect(r.intervals.some((i) => i.incomplete || i.lateReports)).toBe(false);
    // 3.5 s of warm-up and window in 100 ms intervals, and the drain's
    expect(r.intervals.length).toBeGreaterThanOrEqual(35);
  });

  it('measures every node of a 3-node cluster', async () => {
    const r = await runOnce(runSpec(adapter, { topology: 'cluster3', replicas: 3 }, { load: { durationMs: 1500 }, ratePerSec: 1000 }));
    const brokers = r.resources!.brokers as Exclude<NonNullable<typeof r.resources>['brokers'], 'not measured'>;
    expect(brokers.map((b) => b.name).sort()).toEqual(['nats-server n1', 'nats-server n2', 'nats-server n3']);
    expect(new Set(brokers.map((b) => b.pid)).size).toBe(3);
    for (const b of brokers) {
      expect(b.cpuSec).toBeGreaterThan(0);
      expect(b.peakRssBytes).toBeGreaterThan(0);
    }
  });
});
