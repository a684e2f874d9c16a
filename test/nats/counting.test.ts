/**
 * Counting against a real nats-server through the runner: a consumer that closes without
 * acknowledging gets its batch again after ackWait, and that redelivery stays out of
 * throughput, the intervals and e2e (it has its own histogram); a drain that times out
 * says how many messages the stream still held; and on a clean run the stream's stored
 * and delivered counts agree with the ledger.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/nats/index.ts';
import { runOnce } from '../../src/harness/runner.ts';
import { exactlyOnceSpec, removeRunDirs, runSpec } from '../fixtures/run-spec.ts';

afterAll(removeRunDirs);
const ACK_WAIT_US = 1_000_000;

describe('nats counts, through the runner', { timeout: 120_000 }, () => {
  it('keeps redeliveries after ackWait out of throughput, intervals and e2e', async () => {
    const options = { ackWait: '1s', ...adapter.guaranteeOptions!('at-least-once') };
    // the consumer closes between processing and acknowledging every 700 ms; no producer retries
    const eo = exactlyOnceSpec({ guarantee: 'at-least-once', retryEveryMs: 0, crashEveryMs: 700 });
    const r = await runOnce(runSpec(adapter, options, { exactlyOnce: eo }));
    const d = r.delivery;
    expect(d.lost).toBe(0);
    expect(d.duplicated).toBeGreaterThan(0);
    const distinct = d.received - d.duplicated;
    expect(distinct).toBe(d.sent);
    // every first delivery in exactly one interval, and only first deliveries
    expect(r.intervals.reduce((n, iv) => n + iv.received, 0)).toBe(distinct);
    // all repeats reached the consumer that had the message (there is one)
    expect(d.redelivered).toBe(d.duplicated);
    // warm-up and window are whole intervals: the window's intervals hold its receipts
    const inWindow = r.intervals.filter((iv) => iv.phase === 'measure').reduce((n, iv) => n + iv.received, 0);
    expect(r.throughput.receivedInWindow).toBe(inWindow);
    // a redelivery comes ackWait after the first receipt at the earliest
    const redelivery = r.latency.redelivery!;
    expect(redelivery.count).toBeGreaterThan(0);
    expect(redelivery.min).toBeGreaterThanOrEqual(ACK_WAIT_US);
    expect(r.throughput.repeatsInWindow).toBeGreaterThan(0);
    // e2e: each message sent in the window once (2000/s for 3 s, intended times start + k/R)
    expect(r.latency.e2e.count).toBe(2000 * 3);
  });

  it('reports what the stream still held when the drain timed out, as not proven lost', async () => {
    // the consumer handles ~500 msg/s of a 2000 msg/s load, so a backlog outlasts the drain
    const r = await runOnce(runSpec(adapter, {}, { load: { workUs: 2000, durationMs: 1500, drainTimeoutMs: 1000 } }));
    const d = r.delivery;
    expect(d.lost).toBeGreaterThan(0);
    expect(d.ackedLost).toBe(d.lost);
    // whatever the consumer never got, stored and acked, the stream had at the deadline
    expect(d.undeliveredAtDeadline).toBeGreaterThanOrEqual(d.lost);
    expect(r.error).toContain(`the broker still held ${d.undeliveredAtDeadline} messages (undelivered or unacknowledged) at the drain deadline`);
    expect(r.error).toContain(`up to ${d.lost} of the ${d.lost} counted lost (${d.ackedLost} acked) may still arrive, not proven lost`);
    expect(r.status).toBe('delivery-errors');
  });

  it('finds the stream stored and delivered what the ledger counted, with two consumers', async () => {
    const r = await runOnce(runSpec(adapter, {}, { load: { consumers: 2 } }));
    expect(r.delivery.lost + r.delivery.duplicated).toBe(0);
    expect(r.broker?.stored).toBe(r.delivery.sent);
    expect(r.broker?.delivered).toBe(r.delivery.received);
    expect(r.broker?.agrees).toBe(true);
    expect(r.broker?.note).toMatch(/broker stored \d+, within .*; broker delivered \d+, within/);
    expect(r.status).toBe('ok');
    expect(r.intervals.reduce((n, iv) => n + iv.received, 0)).toBe(r.delivery.sent);
  });
});
