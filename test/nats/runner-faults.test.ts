/**
 * NATS through the real runner with a real nats-server: memory storage is reported as
 * losing acknowledged messages on kill -9, and the exactly-once mechanisms (Nats-Msg-Id
 * deduplication, double ack, the consumer's idempotency record) hold under producer
 * retries and consumer crashes, in one stage and across the Order -> Match -> Fill -> Ack
 * pipeline, while at-least-once visibly applies re-sent messages twice.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/nats/index.ts';
import { runOnce, type ExactlyOnceSpec, type RunSpec } from '../../src/scenarios/runner.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function spec(options: Record<string, unknown>, extra: Partial<RunSpec>): RunSpec {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-nats-run-'));
  dirs.push(runDir);
  return {
    system: 'nats',
    adapter,
    options: adapter.parseOptions(options, 'test'),
    label: 'test',
    runId: `t${process.pid}_${dirs.length}`,
    runDir,
    brokers: 'native',
    externalUrls: {},
    ratePerSec: 2000,
    durationMs: 3000,
    warmupMs: 500,
    drainTimeoutMs: 15_000,
    intervalMs: 250,
    producers: 1,
    consumers: 1,
    messageSize: 512,
    maxInFlight: 500,
    batchSize: 16,
    workUs: 0,
    ...extra,
  };
}

const eo = (e: Partial<ExactlyOnceSpec>): ExactlyOnceSpec => ({
  guarantee: 'exactly-once',
  stages: 1,
  retryEveryMs: 200,
  crashEveryMs: 1000,
  behaviour: 'correct',
  accounts: 101,
  ...e,
});

describe('nats under faults, through the runner', { timeout: 120_000 }, () => {
  it('reports memory storage as losing acknowledged messages on kill -9', async () => {
    // a slow consumer keeps a backlog in the stream, which the kill takes with it
    const r = await runOnce(spec({ storage: 'memory' }, { workUs: 1500, fault: { atMs: 1500, downtimeMs: 300 }, drainTimeoutMs: 4000 }));
    const d = r.durability!;
    expect(d.injected).toBe(true);
    expect(d.promise).toBe('none (not durable)');
    expect(d.ackedLost).toBeGreaterThan(0);
    expect(r.capabilities.durable).toBe(false);
  });

  it('applies every message once under retries and consumer crashes with exactly-once mechanisms on', async () => {
    const options = { ackWait: '1s', ...adapter.guaranteeOptions!('exactly-once') };
    const r = await runOnce(spec(options, { exactlyOnce: eo({}) }));
    const e = r.exactlyOnce!;
    expect(r.capabilities.deduplication).toBe(true);
    expect(e.faults.join(' ')).toMatch(/re-sent.*crashes/);
    expect(e.appliedTwice).toBe(0);
    expect(e.neverApplied).toBe(0);
    expect(e.stateCorrect).toBe(true);
    expect(r.status).toBe('ok');
  });

  it('shows at-least-once applying re-sent messages twice', async () => {
    const options = { ackWait: '1s', ...adapter.guaranteeOptions!('at-least-once') };
    const r = await runOnce(spec(options, { exactlyOnce: eo({ guarantee: 'at-least-once', crashEveryMs: 0 }) }));
    expect(r.exactlyOnce!.appliedTwice).toBeGreaterThan(0);
    expect(r.exactlyOnce!.neverApplied).toBe(0);
  });

  it('carries every order through Order -> Match -> Fill -> Ack exactly once', async () => {
    const options = { ackWait: '1s', ...adapter.guaranteeOptions!('exactly-once') };
    const r = await runOnce(spec(options, { exactlyOnce: eo({ stages: 4 }) }));
    const e = r.exactlyOnce!;
    expect(e.stages?.map((s) => s.stage)).toEqual(['order', 'match', 'fill']);
    expect(e.appliedTwice).toBe(0);
    expect(e.neverApplied).toBe(0);
    expect(r.delivery.lost).toBe(0);
    expect(r.status).toBe('ok');
  });
});
