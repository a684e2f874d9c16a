/**
 * Backlog build and drain on a real nats-server, through the real runner: the consumer
 * pauses (it stops receiving; what it had prefetched is kept in progress past ack_wait,
 * so nothing is redelivered), resumes, and the drain is measured. A consumer too slow to
 * catch up gets the verdict at maxDrain, with both rates, not a hang.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/nats/index.ts';
import { runOnce } from '../../src/harness/runner.ts';
import { backlogNotes } from '../../src/report/render/console.ts';
import { removeRunDirs, runSpec } from '../fixtures/run-spec.ts';

afterAll(removeRunDirs);

const load = { warmupMs: 500, intervalMs: 250, batchSize: 16, drainTimeoutMs: 20_000 };

describe('backlog build and drain on NATS', { timeout: 120_000 }, () => {
  it('builds 6000 messages over 3 s (past a 1 s ack_wait), drains them, and counts every message once', async () => {
    const backlog = { messages: 6000, bytes: 6000 * 512, maxBuildMs: 10_000, maxDrainMs: 20_000 };
    const r = await runOnce(runSpec(adapter, { storage: 'memory', ackWait: '1s' }, { ratePerSec: 2000, backlog, load: { ...load, durationMs: 30_000 } }));
    expect(r.status, r.error).toBe('ok');
    const b = r.backlog!;
    expect(b.built, b.verdict).toBe(true);
    expect(b.drainMs, b.verdict).not.toBeNull();
    expect(b.reached.messages).toBeGreaterThanOrEqual(6000);
    expect(b.reached.bytes).toBe(b.reached.messages * 512);
    expect(b.buildMs).toBeGreaterThan(2500);
    expect(b.drainPerSec).toBeGreaterThan(b.producePerSec);
    expect(b.producePerSec).toBeGreaterThan(1500);
    expect(b.drainMBPerSec).toBeCloseTo((b.drainPerSec * 512) / 1e6, 6);
    // the pause was a pause: nothing redelivered, lost or out of order
    expect(r.delivery).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, redelivered: 0 });
    expect(r.schedule).toMatchObject({ unsent: 0 });
    expect(r.delivery.sent).toBe(r.schedule!.intended);
    // the intervals show the backlog rise during the build and fall in the drain
    const measured = r.intervals.filter((iv) => iv.phase === 'measure');
    const peakAt = measured.reduce((best, iv, i) => ((iv.backlog ?? 0) > (measured[best]!.backlog ?? 0) ? i : best), 0);
    expect(measured[peakAt]!.backlog).toBeGreaterThan(5000);
    expect(measured[measured.length - 1]!.backlog!).toBeLessThan(measured[peakAt]!.backlog! / 2);
    // drain-phase latency includes the wait in the backlog: seconds for the oldest
    expect(b.drainLatency.max).toBeGreaterThan(2_000_000);
    expect(backlogNotes(r)[0]).toMatch(/^nats: backlog \d+ messages \([\d.]+ MB\) of 6000 reached in [\d.]+ s; drained in [\d.]+ s at [\d.]+k? msg\/s/);
  });

  it('a consumer slower than the producers never catches up: the verdict at maxDrain names both rates', async () => {
    // 700 µs of work per message: at most ~1.4k msg/s against 2k msg/s offered
    const backlog = { messages: 2000, bytes: 2000 * 512, maxBuildMs: 10_000, maxDrainMs: 3000 };
    const started = Date.now();
    const r = await runOnce(runSpec(adapter, { storage: 'memory' }, { ratePerSec: 2000, backlog, load: { ...load, durationMs: 13_000, workUs: 700 } }));
    const b = r.backlog!;
    expect(b.built).toBe(true);
    expect(b.drainMs).toBeNull();
    expect(b.drainPhaseMs).toBeGreaterThanOrEqual(3000);
    expect(b.drainPhaseMs).toBeLessThan(3500);
    expect(b.netDrainPerSec).toBeLessThanOrEqual(0);
    expect(r.status).toBe('warning');
    expect(r.error).toMatch(/backlog did not drain within backlog\.maxDrain 3\.0 s: consumers took \d+ msg\/s while producers sent \d+ msg\/s \(the drain rate is not above the produce rate: it never catches up\); \d+ of \d+ messages still queued/);
    expect(r.delivery).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    // bounded: warm-up + ~1 s build + 3 s drain + the remaining backlog at ~1.4k msg/s
    expect(Date.now() - started).toBeLessThan(40_000);
  });
});
