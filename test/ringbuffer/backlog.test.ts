/**
 * A backlog build and drain through the real runner on the ring buffer: the consumer
 * really stops reading (the lanes fill), resumes, and every message is counted once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/ringbuffer/index.ts';
import { runOnce } from '../../src/harness/runner.ts';
import { removeRunDirs, runSpec } from '../fixtures/run-spec.ts';

afterAll(removeRunDirs);

describe('backlog on the ring buffer', { timeout: 60_000 }, () => {
  it('builds 4000 messages with the consumer paused, drains them while producers keep 4k msg/s, nothing lost or repeated', async () => {
    const backlog = { messages: 4000, bytes: 4000 * 512, maxBuildMs: 5000, maxDrainMs: 10_000 };
    const r = await runOnce(runSpec(adapter, {}, { ratePerSec: 4000, backlog, load: { durationMs: 15_000, warmupMs: 500, intervalMs: 250 } }));
    expect(r.status, r.error).toBe('ok');
    const b = r.backlog!;
    expect(b.built && b.drainMs !== null, b.verdict).toBe(true);
    expect(b.reached.messages).toBeGreaterThanOrEqual(4000);
    // 4000 messages at 4k msg/s: about a second of build
    expect(b.buildMs).toBeGreaterThan(800);
    expect(b.buildMs).toBeLessThan(3000);
    expect(b.drainPerSec).toBeGreaterThan(b.producePerSec);
    expect(r.delivery).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(r.schedule).toMatchObject({ unsent: 0 });
    expect(r.delivery.sent).toBe(r.schedule!.intended);
    // the window is the build and the drain, not the 15 s bound
    expect(r.throughput.measuredMs).toBeLessThan(b.buildMs + b.drainPhaseMs + 100);
    const peak = Math.max(...r.intervals.map((iv) => iv.backlog ?? 0));
    expect(peak).toBeGreaterThanOrEqual(3000);
    expect(b.drainLatency.count).toBeGreaterThan(0);
  });
});
