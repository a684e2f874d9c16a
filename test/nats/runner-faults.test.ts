/**
 * NATS through the real runner with a real nats-server: memory storage is reported as
 * losing acknowledged messages on kill -9, and the exactly-once mechanisms (Nats-Msg-Id
 * deduplication, double ack, the consumer's idempotency record) hold under producer
 * retries and consumer crashes, in one stage and across the Order -> Match -> Fill -> Ack
 * pipeline, while at-least-once visibly applies re-sent messages twice.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/nats/index.ts';
import { runOnce } from '../../src/harness/runner.ts';
import { exactlyOnceSpec as eo, removeRunDirs, runSpec } from '../fixtures/run-spec.ts';
import { exactlyOnceKillSpec, expectExactlyOnceThroughKill, type KillRun } from '../fixtures/exactly-once-kill.ts';

afterAll(removeRunDirs);
const spec = (options: Record<string, unknown>, extra: Parameters<typeof runSpec>[2]) => runSpec(adapter, options, extra);

describe('nats under faults, through the runner', { timeout: 120_000 }, () => {
  it('reports memory storage as losing acknowledged messages on kill -9', async () => {
    // a slow consumer keeps a backlog in the stream, which the kill takes with it
    const r = await runOnce(spec({ storage: 'memory' }, { load: { workUs: 1500, drainTimeoutMs: 4000 }, fault: { atMs: 1500, downtimeMs: 300, kind: { type: 'kill' } } }));
    const d = r.durability!;
    expect(d.injected).toBe(true);
    expect(d.promise).toBe('none (not durable)');
    expect(d.ackedLost).toBeGreaterThan(0);
    expect(r.capabilities.durability).toBe('none');
  });

  it('applies every message once under retries and consumer crashes with exactly-once mechanisms on', async () => {
    const options = { ackWait: '1s', ...adapter.guaranteeOptions!('exactly-once') };
    const r = await runOnce(spec(options, { exactlyOnce: eo({}) }));
    const e = r.exactlyOnce!;
    expect(r.capabilities.deduplication).toBe(true);
    expect(e.faultCounts.resent).toBeGreaterThan(0);
    expect(e.faultCounts.consumerCrashes).toBeGreaterThan(0);
    expect(e.appliedTwice).toBe(0);
    expect(e.neverApplied).toBe(0);
    expect(e.stateCorrect).toBe(true);
    expect(r.status).toBe('ok');
  });

  it('shows at-least-once applying re-sent messages twice', async () => {
    const options = { ackWait: '1s', ...adapter.guaranteeOptions!('at-least-once') };
    const r = await runOnce(spec(options, { exactlyOnce: eo({ guarantee: 'at-least-once', crashEveryMs: 0 }) }));
    expect(r.exactlyOnce!.faultCounts.resent).toBeGreaterThan(0);
    expect(r.exactlyOnce!.appliedTwice).toBeGreaterThan(0);
    expect(r.exactlyOnce!.neverApplied).toBe(0);
  });

  it('applies every message once with file storage through retries, consumer crashes and kill -9 with restart', async () => {
    // Crashes go on through the drain: a crash period equal to ackWait would meet every
    // redelivery of the last crashed batch with the next crash, and the drain would only end
    // at its deadline (messages whose ack died with the connection never arrive).
    const k: KillRun = { ratePerSec: 2000, durationMs: 4000, atMs: 1000, downtimeMs: 300, drainTimeoutMs: 30_000, retryEveryMs: 200, crashEveryMs: 1500 };
    const r = await runOnce(exactlyOnceKillSpec(adapter, { storage: 'file', ackWait: '1s' }, k));
    expect(r.capabilities).toMatchObject({ durability: 'process-crash', deduplication: true });
    expectExactlyOnceThroughKill(r, k);
  });

  it('carries every order of two producers through Order -> Match -> Fill -> Ack exactly once', async () => {
    const options = { ackWait: '1s', ...adapter.guaranteeOptions!('exactly-once') };
    // two producers: a stage forwards their messages interleaved, in short runs each
    const r = await runOnce(spec(options, { load: { producers: 2 }, exactlyOnce: eo({ stages: 4 }) }));
    const e = r.exactlyOnce!;
    expect(e.faultCounts.resent).toBeGreaterThan(0);
    expect(e.faultCounts.consumerCrashes).toBeGreaterThan(0);
    expect(e.faultCounts.stageCrashes).toBeGreaterThan(0);
    expect(e.stages?.map((s) => s.stage)).toEqual(['order', 'match', 'fill']);
    // every stage's stream holds what stage 0 holds: nothing forwarded twice
    const d = r.broker!.detail!;
    expect([d.stage1Stored, d.stage2Stored, d.stage3Stored]).toEqual([r.broker!.stored, r.broker!.stored, r.broker!.stored]);
    expect(e.appliedTwice).toBe(0);
    expect(e.neverApplied).toBe(0);
    expect(r.delivery.lost).toBe(0);
    expect(r.status).toBe('ok');
  });
});
