/**
 * Pulsar through the real runner with a real standalone: broker deduplication plus the
 * consumer's idempotency record apply every message once under producer retries and
 * consumer crashes, in one stage and across the Order -> Match -> Fill -> Ack pipeline;
 * at-least-once visibly applies re-sent messages twice.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/pulsar/index.ts';
import { runOnce, type ExactlyOnceSpec } from '../../src/harness/runner.ts';
import { exactlyOnceSpec, removeRunDirs, runSpec } from '../fixtures/run-spec.ts';
import { exactlyOnceKillSpec, expectExactlyOnceThroughKill, type KillRun } from '../fixtures/exactly-once-kill.ts';

afterAll(removeRunDirs);
const spec = (options: Record<string, unknown>, eo: Partial<ExactlyOnceSpec>) => runSpec(adapter, options, { load: { drainTimeoutMs: 20_000 }, exactlyOnce: exactlyOnceSpec(eo) });

// A crashed stage's open transaction holds back every later message on the next topic
// until the coordinator aborts it: the timeout must be well under the crash period, or
// the pipeline never catches up.
const TXN_TIMEOUT = { txnTimeoutMs: 600 };

describe('pulsar exactly-once, through the runner', { timeout: 240_000 }, () => {
  it('applies every message once under retries and consumer crashes with deduplication on', async () => {
    const r = await runOnce(spec(adapter.guaranteeOptions!('exactly-once'), {}));
    const e = r.exactlyOnce!;
    expect(r.capabilities.deduplication).toBe(true);
    expect(e.faultCounts.resent).toBeGreaterThan(0);
    expect(e.faultCounts.consumerCrashes).toBeGreaterThan(0);
    expect(e.appliedTwice).toBe(0);
    expect(e.neverApplied).toBe(0);
    expect(e.stateCorrect).toBe(true);
    expect(r.status).toBe('ok');
  });

  it('applies every message once through retries, consumer crashes and kill -9 with restart of the standalone', { timeout: 400_000 }, async () => {
    // A standalone takes ~10-20 s to restart here (12 s on an idle machine, 19 s with other
    // work on the two cores): 30 s measured keeps the restart inside the window. A fixed moderate rate, not closed
    // loop: at high closed-loop rates the restarted standalone sometimes fails to recover
    // the topic's ledger: a torn journal record (README, "Why Pulsar's topic did not come
    // back"; test/pulsar/torn-journal.test.ts reproduces it), which this test is not about.
    const k: KillRun = { ratePerSec: 5000, durationMs: 30_000, atMs: 4000, downtimeMs: 1000, drainTimeoutMs: 60_000, retryEveryMs: 500, crashEveryMs: 3000 };
    const r = await runOnce(exactlyOnceKillSpec(adapter, {}, k));
    expect(r.capabilities).toMatchObject({ durability: 'power-loss', deduplication: true });
    expectExactlyOnceThroughKill(r, k);
  });

  it('shows at-least-once applying re-sent messages twice', async () => {
    const r = await runOnce(spec(adapter.guaranteeOptions!('at-least-once'), { guarantee: 'at-least-once', crashEveryMs: 0 }));
    expect(r.exactlyOnce!.faultCounts.resent).toBeGreaterThan(0);
    expect(r.exactlyOnce!.appliedTwice).toBeGreaterThan(0);
    expect(r.exactlyOnce!.neverApplied).toBe(0);
  });

  it('carries every order through Order -> Match -> Fill -> Ack exactly once, stages in transactions', async () => {
    const r = await runOnce(spec({ ...adapter.guaranteeOptions!('exactly-once'), ...TXN_TIMEOUT }, { stages: 4, crashEveryMs: 1500 }));
    const e = r.exactlyOnce!;
    expect(r.capabilities.transactions).toBe(true);
    expect(e.mechanism).toMatch(/one transaction/);
    expect(e.stages?.map((s) => s.stage)).toEqual(['order', 'match', 'fill']);
    for (const s of e.stages!.slice(1)) expect(s.crashes).toBeGreaterThan(0);
    expect(e.faultCounts.resent).toBeGreaterThan(0);
    expect(e.faultCounts.consumerCrashes).toBeGreaterThan(0);
    expect(e.appliedTwice).toBe(0);
    expect(e.neverApplied).toBe(0);
    expect(r.delivery.lost).toBe(0);
    expect(r.status).toBe('ok');
  });

  // Deduplication off on every topic: the only thing keeping a stage that crashed after
  // producing from producing again is the transaction. Each later stage's topic must hold
  // exactly what stage 0 holds; without transactions it holds more.
  const storedPerStage = (r: Awaited<ReturnType<typeof runOnce>>): number[] => {
    const d = r.broker!.detail!;
    return [r.broker!.stored!, Number(d.stage1Stored), Number(d.stage2Stored), Number(d.stage3Stored)];
  };
  const pipeline = (transactions: 'on' | 'off') =>
    spec({ dedup: 'off', transactions, ...TXN_TIMEOUT }, { stages: 4, retryEveryMs: 0, crashEveryMs: 1500 });

  it('transactions alone keep crashing stages from forwarding twice (each stage holds what stage 0 holds)', async () => {
    const r = await runOnce(pipeline('on'));
    const [order, ...later] = storedPerStage(r);
    expect(order).toBe(r.delivery.acked);
    expect(later).toEqual([order, order, order]);
    expect(r.exactlyOnce!.stages!.map((s) => s.stage)).toEqual(['order', 'match', 'fill']);
    expect(r.exactlyOnce!.stages!.slice(1).every((s) => s.crashes > 0)).toBe(true);
    expect(r.exactlyOnce!.faultCounts.stageCrashes).toBeGreaterThan(0);
    expect(r.exactlyOnce!.appliedTwice).toBe(0);
  });

  it('forwards for several producers with deduplication and no transactions: a Pulsar producer per origin', async () => {
    // One name for both origins would let deduplication drop the lower sequence ids.
    const r = await runOnce(
      runSpec(adapter, { dedup: 'on', transactions: 'off' }, { load: { producers: 2, drainTimeoutMs: 20_000 }, exactlyOnce: exactlyOnceSpec({ stages: 3, crashEveryMs: 1500 }) }),
    );
    const e = r.exactlyOnce!;
    expect(e.stages!.map((s) => s.stage)).toEqual(['stage0', 'stage1']);
    expect(e.stages!.every((s) => s.crashes > 0)).toBe(true);
    expect(e.faultCounts.resent).toBeGreaterThan(0);
    expect(e.neverApplied).toBe(0);
    expect(e.appliedTwice).toBe(0);
    expect(r.delivery.lost).toBe(0);
  });

  it('without transactions or deduplication, a crashing stage forwards twice (the check can fail)', async () => {
    const r = await runOnce(pipeline('off'));
    const [order, ...later] = storedPerStage(r);
    expect(Math.max(...later)).toBeGreaterThan(order!);
  });
});
