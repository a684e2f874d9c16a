/**
 * The durability scenario end to end through the real runner: worker threads, the ring
 * server as a child process, kill -9 and restart mid-run. The consumer is made slower
 * than the producers (handler work per message), so a backlog of acknowledged,
 * unconsumed messages sits in the server when it is killed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/ringbuffer/index.ts';
import { runOnce, type RunSpec } from '../../src/harness/runner.ts';
import { removeTempDirs, tempDir } from './child-helpers.ts';
import { removeRunDirs, withOverrides, type RunSpecOverrides } from '../fixtures/run-spec.ts';
import { exactlyOnceKillSpec, expectExactlyOnceThroughKill, type KillRun } from '../fixtures/exactly-once-kill.ts';

function spec(journal: 'none' | 'fsync', drainTimeoutMs: number, extra: RunSpecOverrides = {}): RunSpec {
  return withOverrides({
    system: 'ringbuffer',
    adapter,
    options: adapter.parseOptions({ process: 'child', journal }, 'test'),
    label: `journal=${journal}`,
    runId: `test-ring-fault-${journal}`,
    runDir: tempDir('busbench-ring-runner-'),
    brokers: 'native',
    externalUrls: {},
    ratePerSec: 2000,
    load: {
      durationMs: 1200,
      warmupMs: 300,
      drainTimeoutMs,
      intervalMs: 250,
      producers: 1,
      consumers: 1,
      messageSize: 512,
      maxInFlight: 1000,
      batchSize: 16,
      // ~1000 messages/s at most: half the rate, so a backlog builds up
      workUs: 1000,
    },
    fault: { atMs: 300, downtimeMs: 300, kind: { type: 'kill' } },
  }, extra);
}

afterAll(() => {
  removeTempDirs();
  removeRunDirs();
});

describe('ringbuffer child mode through the runner with kill -9', () => {
  it('journal none: acknowledged messages are lost, and that is no broken promise', { timeout: 90_000 }, async () => {
    const r = await runOnce(spec('none', 4_000));
    expect(r.capabilities.durability).toBe('none');
    expect(r.durability?.injected).toBe(true);
    expect(r.durability?.promise).toBe('none (not durable)');
    expect(r.durability?.ackedLost).toBeGreaterThan(0);
    expect(r.durability?.promiseKept).toBe(true);
    expect(r.delivery.received).toBeGreaterThan(0);
  });

  it('journal fsync: no acknowledged message is lost, and the promise is kept', { timeout: 90_000 }, async () => {
    const r = await runOnce(spec('fsync', 30_000));
    expect(r.capabilities.durability).toBe('power-loss');
    expect(r.durability?.injected).toBe(true);
    expect(r.durability?.promise).toBe('acked messages survive a process crash and a power loss');
    expect(r.durability?.ackedLost).toBe(0);
    expect(r.durability?.promiseKept).toBe(true);
    expect(r.delivery.ackedLost).toBe(0);
    expect(r.status).toBe('ok');
    expect(r.durability?.rtoMs).not.toBeNull();
  });

  it('exactly-once with journal fsync through retries, consumer crashes and kill -9: every message applied once', { timeout: 120_000 }, async () => {
    const k: KillRun = { ratePerSec: 2000, durationMs: 4000, atMs: 1000, downtimeMs: 300, drainTimeoutMs: 30_000, retryEveryMs: 200, crashEveryMs: 1000 };
    const r = await runOnce(exactlyOnceKillSpec(adapter, { process: 'child', journal: 'fsync' }, k));
    expect(r.capabilities).toMatchObject({ durability: 'power-loss', deduplication: true });
    expectExactlyOnceThroughKill(r, k);
  });

  for (const journal of ['none', 'fsync'] as const) {
    it(`journal ${journal}, closed loop, no fault: every message delivered once, in order`, { timeout: 90_000 }, async () => {
      const r = await runOnce(spec(journal, 10_000, { ratePerSec: 0, load: { workUs: 0, batchSize: 64, durationMs: 1000, producers: 2, consumers: 1 }, fault: undefined }));
      expect(r.status).toBe('ok');
      expect(r.delivery.sent).toBeGreaterThan(0);
      expect(r.delivery.received).toBe(r.delivery.sent);
      expect(r.delivery.lost + r.delivery.duplicated + r.delivery.outOfOrder + r.delivery.unknown).toBe(0);
      expect(r.broker?.agrees).toBe(true);
      // A figure for the log, not a target: timing targets live in bench/.
      console.log(`ringbuffer child journal=${journal}: ${Math.round(r.throughput.msgsPerSec)} msgs/s, e2e p50 ${Math.round(r.latency.e2e.p50)} us, p99 ${Math.round(r.latency.e2e.p99)} us (2 producers, 512 B, closed loop, 1 s)`);
    });
  }
});
