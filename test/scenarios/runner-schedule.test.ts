/**
 * The fixed-rate schedule through the real runner, over the cross-thread test transport:
 * every message of the schedule is sent and counted, the send delay is recorded for
 * exactly the messages intended inside the window, and an aborted run says how much of
 * its schedule it never sent.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { monoNs } from '../../src/core/clock.ts';
import { runOnce } from '../../src/harness/runner.ts';
import { adapter } from '../fixtures/broadcast-system.ts';
import { removeRunDirs, runSpec, withOverrides } from '../fixtures/run-spec.ts';

const workerModule = new URL('../fixtures/broadcast-system.ts', import.meta.url).href;
const RATE = 10_000;
const spec = (extra: Parameters<typeof runSpec>[2] = {}) =>
  withOverrides(runSpec(adapter, { fault: 'none' }, { workerModule, ratePerSec: RATE, load: { warmupMs: 200, durationMs: 800, drainTimeoutMs: 1500, producers: 2, batchSize: 32, maxInFlight: 1000 } }), extra);

afterAll(removeRunDirs);

describe('fixed-rate schedule through the runner', { timeout: 60_000 }, () => {
  it('sends and counts the whole schedule of two producers, with a send delay for the window', async () => {
    const r = await runOnce(spec());
    expect(r.delivery.sent).toBe(RATE);
    expect(r.delivery.lost).toBe(0);
    expect(r.schedule).toMatchObject({ intended: RATE, sent: RATE, unsent: 0, intendedPerSec: RATE });
    // the window holds 0.8 s of the schedule
    expect(r.latency.sendDelay!.count).toBe(RATE * 0.8);
    expect(r.latency.sendDelay!.min).toBeGreaterThan(0);
    expect(r.intervals.reduce((n, iv) => n + (iv.sent ?? 0), 0)).toBe(RATE);
  });

  it('says how many intended messages an aborted run never sent', async () => {
    const ctl = new AbortController();
    let abortedAfterNs = 0;
    const run = runOnce(spec({ load: { durationMs: 5000 } }), {
      signal: ctl.signal,
      onSession: (_s, c) => {
        const startNs = c.timelineNs().startNs;
        setTimeout(() => {
          abortedAfterNs = monoNs() - startNs;
          ctl.abort();
        }, (startNs + 1.3e9 - monoNs()) / 1e6);
      },
    });
    const err = await run.then(
      () => new Error('the aborted run returned a result'),
      (e: Error) => e,
    );
    const m = /^interrupted; (\d+) of (\d+) intended messages never sent$/.exec(err.message);
    expect(m, err.message).not.toBeNull();
    const [unsent, intended] = [Number(m![1]), Number(m![2])];
    expect(intended).toBe(RATE * 5.2);
    // nothing goes out ahead of its schedule; a producer mid-send adds at most one batch
    const dueAtAbort = Math.ceil((RATE * abortedAfterNs) / 1e9);
    expect(unsent).toBeGreaterThanOrEqual(intended - dueAtAbort - 2 * 32);
    // and the producers did send what came due before the abort, give or take a stall
    expect(unsent).toBeLessThan(intended - dueAtAbort + RATE * 0.5);
  });
});
