/**
 * The exactly-once checks can fail: a consumer that applies some messages twice and one
 * that drops some are both caught, while a correct consumer under producer retries and
 * consumer crashes passes. Runs on the real in-process ring buffer (no broker needed).
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runOnce, type ExactlyOnceSpec, type RunSpec } from '../../src/harness/runner.ts';
import { adapter } from '../../src/adapters/ringbuffer/index.ts';
import { withOverrides, type RunSpecOverrides } from '../fixtures/run-spec.ts';

function spec(eo: Partial<ExactlyOnceSpec>, extra: RunSpecOverrides = {}): RunSpec {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-eo-'));
  return withOverrides({
    system: 'ringbuffer',
    adapter,
    options: adapter.parseOptions({}, 'test'),
    label: 'eo',
    runId: 'test-eo',
    runDir,
    brokers: 'native',
    externalUrls: {},
    ratePerSec: 20_000,
    load: {
      durationMs: 1200,
      warmupMs: 200,
      drainTimeoutMs: 3000,
      intervalMs: 250,
      producers: 2,
      consumers: 1,
      messageSize: 256,
      maxInFlight: 1000,
      batchSize: 32,
      workUs: 0,
    },
    exactlyOnce: { guarantee: 'exactly-once', stages: 1, retryEveryMs: 100, crashEveryMs: 300, behaviour: 'correct', accounts: 97, ...eo },
  }, extra);
}

describe('exactly-once verification', { timeout: 60_000 }, () => {
  it('passes a correct consumer under producer retries and consumer crashes', async () => {
    const r = await runOnce(spec({}));
    const eo = r.exactlyOnce!;
    // the faults happened: without them appliedTwice == 0 would prove nothing
    expect(eo.faultCounts.resent).toBeGreaterThan(0);
    expect(eo.faultCounts.consumerCrashes).toBeGreaterThan(0);
    expect(eo.faultCounts.brokerKills).toBe(0);
    expect(eo.faults).toContain(`producer retries: ${eo.faultCounts.resent} messages re-sent as after a lost ack`);
    expect(eo.applied).toBeGreaterThan(1000);
    expect(eo.skippedByRecord).toBeGreaterThan(0);
    expect(eo.appliedTwice).toBe(0);
    expect(eo.neverApplied).toBe(0);
    expect(eo.stateCorrect).toBe(true);
    expect(r.status).toBe('ok');
  });

  it('shows at-least-once applying re-sent messages twice, without calling it a failure', async () => {
    const r = await runOnce(spec({ guarantee: 'at-least-once' }));
    const eo = r.exactlyOnce!;
    expect(eo.faultCounts.resent).toBeGreaterThan(0);
    expect(eo.faultCounts.consumerCrashes).toBeGreaterThan(0);
    expect(eo.appliedTwice).toBeGreaterThan(0);
    expect(eo.stateCorrect).toBe(false);
    expect(eo.neverApplied).toBe(0);
    expect(r.status).toBe('ok');
  });

  it('catches a consumer that applies some messages twice', async () => {
    const r = await runOnce(spec({ behaviour: 'apply-twice', retryEveryMs: 0, crashEveryMs: 0 }));
    const eo = r.exactlyOnce!;
    expect(eo.appliedTwice).toBeGreaterThan(0);
    expect(eo.stateCorrect).toBe(false);
    expect(r.status).toBe('delivery-errors');
  });

  it('catches a consumer that acknowledges messages it never applied', async () => {
    const r = await runOnce(spec({ behaviour: 'drop', retryEveryMs: 0, crashEveryMs: 0 }));
    const eo = r.exactlyOnce!;
    expect(eo.neverApplied).toBeGreaterThan(0);
    expect(eo.appliedTwice).toBe(0);
    expect(eo.stateCorrect).toBe(false);
    expect(r.status).toBe('delivery-errors');
  });

  it('runs the Order -> Match -> Fill -> Ack pipeline and checks every order reached Ack once', async () => {
    const r = await runOnce(spec({ stages: 4 }, { load: { producers: 1 } }));
    const eo = r.exactlyOnce!;
    expect(eo.faultCounts.resent).toBeGreaterThan(0);
    expect(eo.faultCounts.consumerCrashes).toBeGreaterThan(0);
    expect(eo.faultCounts.stageCrashes).toBe(eo.stages!.reduce((n, s) => n + s.crashes, 0));
    expect(eo.faultCounts.stageCrashes).toBeGreaterThan(0);
    expect(eo.stages?.map((s) => s.stage)).toEqual(['order', 'match', 'fill']);
    expect(eo.stages?.every((s) => s.forwarded > 0)).toBe(true);
    expect(eo.appliedTwice).toBe(0);
    expect(eo.neverApplied).toBe(0);
    expect(r.delivery.lost).toBe(0);
    expect(r.latency.e2e.count).toBeGreaterThan(0);
    expect(r.status).toBe('ok');
  });
});
