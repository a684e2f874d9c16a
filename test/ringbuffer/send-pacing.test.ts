/**
 * A synchronous system's producer at a fixed rate whose gaps are shorter than what a timed
 * Atomics.wait overshoots (~50-100 µs here: timer slack plus the wake-up). It used to sleep
 * on every gap and hand each message over tens of µs after its intended time (the send
 * delay, which counts from the intended time); it now spins the last stretch, so half of
 * the messages go out within a few µs however loaded the machine is. The median, not the
 * tail: on a shared machine a spinning thread is still preempted now and then.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/ringbuffer/index.ts';
import { runOnce } from '../../src/harness/runner.ts';
import { removeRunDirs, runSpec } from '../fixtures/run-spec.ts';

afterAll(removeRunDirs);

describe('fixed-rate pacing of a synchronous producer', { timeout: 60_000 }, () => {
  it('at 20k msg/s (50 µs gaps) the median send delay stays below 20 µs', async () => {
    const r = await runOnce(runSpec(adapter, {}, { ratePerSec: 20_000, load: { durationMs: 2000, warmupMs: 300, batchSize: 64 } }));
    expect(r.status, r.error).toBe('ok');
    expect(r.schedule).toMatchObject({ unsent: 0 });
    const d = r.latency.sendDelay!;
    expect(d.count).toBe(40_000);
    expect(d.p50).toBeLessThan(20);
  });
});
