/**
 * The runner's counts over a real cross-thread transport: with two consumers that each
 * get every message, each message counts once in throughput, intervals and e2e, and the
 * drain waits for the union; and the broker cross-check turns a clean run whose broker
 * count disagrees into a warning.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runOnce } from '../../src/harness/runner.ts';
import { adapter } from '../fixtures/lagging-system.ts';
import { removeRunDirs, runSpec, withOverrides } from '../fixtures/run-spec.ts';
import { runResult } from '../report/fixtures.ts';
import { summaryTable } from '../../src/report/render/console.ts';

afterAll(removeRunDirs);
const workerModule = new URL('../fixtures/lagging-system.ts', import.meta.url).href;
const spec = (options: Record<string, unknown>, extra: Parameters<typeof runSpec>[2] = {}) =>
  withOverrides(runSpec(adapter, options, { workerModule, ratePerSec: 5000, load: { warmupMs: 250, durationMs: 750, intervalMs: 250, drainTimeoutMs: 10_000 } }), extra);

describe('counting across consumers', { timeout: 60_000 }, () => {
  it('waits for the union of two consumers, not the sum, and counts each message once', async () => {
    // Messages arrive 400 ms after their ack, so when the producers are done the last
    // ~2000 are still on their way while the two consumers together have counted
    // 2 x 3000: a drain on the sum stops there and reports them lost.
    const r = await runOnce(spec({ lagMs: 400 }, { load: { consumers: 2 } }));
    const d = r.delivery;
    expect(d.sent).toBeGreaterThan(4000);
    expect(d.lost).toBe(0);
    expect(d.ackedLost).toBe(0);
    // every message reached both consumers: one first delivery, one duplicate, none redelivered
    expect(d.received).toBe(2 * d.sent);
    expect(d.duplicated).toBe(d.sent);
    expect(d.redelivered).toBe(0);
    expect(r.intervals.reduce((n, iv) => n + iv.received, 0)).toBe(d.sent);
    const inWindow = r.intervals.filter((iv) => iv.phase === 'measure').reduce((n, iv) => n + iv.received, 0);
    expect(r.throughput.receivedInWindow).toBe(inWindow);
    // each message sent in the window: once in e2e, its copy in the redelivery histogram
    expect(r.latency.e2e.count).toBeGreaterThan(0);
    expect(r.latency.redelivery?.count).toBe(r.latency.e2e.count);
    expect(r.status).toBe('delivery-errors');
    expect(r.error).toMatch(/duplicate deliveries \(\d+ at a second consumer\)/);
  });
});

describe('broker cross-check', { timeout: 60_000 }, () => {
  it('gives every interval its consumer backlog, and says when the latency is that queue', async () => {
    // 5000 msg/s delivered 400 ms after the ack: ~2000 messages always on their way, and
    // every end-to-end latency is mostly that wait. Two consumers each get every message:
    // repeats must not hide the backlog (first deliveries only).
    const r = await runOnce(spec({ lagMs: 400 }, { load: { consumers: 2 } }));
    const measured = r.intervals.filter((iv) => iv.phase === 'measure');
    expect(measured.length).toBeGreaterThan(0);
    // ~2000 (400 ms at 5000 msg/s) while the producer keeps its rate. A loaded machine's
    // stalled producer hands over less, which lowers the backlog of the intervals after
    // the stall: the lower bound holds where the producer kept its rate over the lag (this
    // interval and the one before handed over 1250 ± 20%), and such an interval must exist.
    const kept = (iv: { sent?: number } | undefined): boolean => iv?.sent !== undefined && Math.abs(iv.sent - 1250) <= 250;
    const steady = r.intervals.filter((iv, i) => iv.phase === 'measure' && kept(iv) && kept(r.intervals[i - 1]));
    expect(steady.length, JSON.stringify(r.intervals)).toBeGreaterThan(0);
    for (const iv of steady) expect(iv.backlog).toBeGreaterThan(1000);
    for (const iv of measured) {
      expect(iv.backlog).toBeGreaterThan(0);
      expect(iv.backlog).toBeLessThan(3500);
    }
    // backlog = everything handed over so far minus first deliveries so far
    let sent = 0;
    let received = 0;
    for (const iv of r.intervals) {
      sent += iv.sent ?? 0;
      received += iv.received;
      if (iv.backlog !== undefined) expect(iv.backlog).toBe(sent - received);
    }
    expect(r.intervals.at(-1)!.backlog).toBe(0); // drained
    const text = summaryTable(runResult([r]), process.stdout);
    expect(text).toMatch(/lagging: backlog held at ~\d+ messages: at [\d.]+k msg\/s that is ~[\d.]+ms of queueing in every end-to-end latency/);
  });

  it('agrees when the broker counts what the ledger counts', async () => {
    const r = await runOnce(spec({}));
    expect(r.broker?.agrees).toBe(true);
    expect(r.broker?.note).toMatch(/broker stored \d+, within .*; broker delivered \d+, within/);
    expect(r.status).toBe('ok');
  });

  it('turns a clean run into a warning when the broker stored a different number', async () => {
    const r = await runOnce(spec({ storedSkew: 7 }));
    expect(r.delivery.lost + r.delivery.duplicated).toBe(0);
    expect(r.broker?.agrees).toBe(false);
    expect(r.broker?.stored).toBe(r.delivery.sent + 7);
    expect(r.broker?.note).toContain(`broker stored ${r.delivery.sent + 7}, outside [acked ${r.delivery.acked}`);
    expect(r.status).toBe('warning');
    // the console says so in red, with the broker's number and the ledger's
    vi.stubEnv('NO_COLOR', '');
    const text = summaryTable(runResult([r]), { isTTY: true } as NodeJS.WriteStream);
    vi.unstubAllEnvs();
    const line = text.split('\n').find((l) => l.includes('WARNING'));
    expect(line).toMatch(new RegExp(`^\\x1b\\[31m.*broker stored ${r.delivery.sent + 7}, outside \\[acked ${r.delivery.acked},`));
  });

  it('turns a clean run into a warning when the broker delivered a different number', async () => {
    const r = await runOnce(spec({ deliveredSkew: -3 }));
    expect(r.broker?.delivered).toBe(r.delivery.received - 3);
    expect(r.broker?.note).toContain(`broker delivered ${r.delivery.received - 3}, outside [distinct received ${r.delivery.received}`);
    expect(r.status).toBe('warning');
  });
});
