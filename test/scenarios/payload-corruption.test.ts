/**
 * A body changed in transit is caught by its checksum: a transport that flips one body
 * byte in every 83rd message, through the runner, with payload.verify all and sampled.
 * The messages still arrive (nothing is lost); the corrupted ones are counted and the run
 * is a delivery error.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runOnce, type RunSpec } from '../../src/harness/runner.ts';
import { adapter } from '../fixtures/broadcast-system.ts';
import { SAMPLE_EVERY, type PayloadPlan } from '../../src/core/payload.ts';

const workerModule = new URL('../fixtures/broadcast-system.ts', import.meta.url).href;

function spec(fault: string, verify: PayloadPlan['verify']): RunSpec {
  const payload: PayloadPlan = { size: { kind: 'fixed', bytes: 700 }, randomBytes: 0.5, seed: 3, verify };
  return {
    system: 'broadcast',
    adapter,
    workerModule,
    options: { fault },
    label: fault,
    runId: `payload-${fault}-${verify}`,
    runDir: fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-payload-')),
    brokers: 'native',
    externalUrls: {},
    ratePerSec: 5000,
    load: { durationMs: 800, warmupMs: 200, drainTimeoutMs: 1500, intervalMs: 250, producers: 1, consumers: 1, messageSize: 700, maxInFlight: 1000, batchSize: 32, workUs: 0, payload },
  };
}

/** 5000 msg/s over 200 ms of warm-up and 800 ms measured */
const SENT = 5000;

describe('payload body checksums', () => {
  it('verify all: every 83rd message counted corrupted, none lost, the run a delivery error', async () => {
    const r = await runOnce(spec('corrupt', 'all'));
    expect(r.delivery.sent).toBe(SENT);
    expect(r.delivery.lost).toBe(0);
    expect(r.delivery.checksummed).toBe(SENT);
    expect(r.delivery.corrupted).toBe(Math.floor(SENT / 83));
    expect(r.status).toBe('delivery-errors');
    expect(r.error).toMatch(/60 of 5000 checked messages arrived corrupted/);
  });

  it('verify sampled: only every 16th sequence is checked, so only the corrupted ones among them count', async () => {
    const r = await runOnce(spec('corrupt', 'sampled'));
    expect(r.delivery.checksummed).toBe(Math.ceil(SENT / SAMPLE_EVERY));
    // message n (1-based) is corrupted when n % 83 == 0, i.e. seq = n - 1; checked when seq % 16 == 0
    let expected = 0;
    for (let seq = 0; seq < SENT; seq++) if ((seq + 1) % 83 === 0 && seq % SAMPLE_EVERY === 0) expected++;
    expect(r.delivery.corrupted).toBe(expected);
  });

  it('a clean transport: every body intact, and verify off checks none', async () => {
    const clean = await runOnce(spec('none', 'all'));
    expect(clean.status).toBe('ok');
    expect(clean.delivery).toMatchObject({ checksummed: SENT, corrupted: 0 });
    const off = await runOnce(spec('corrupt', 'off'));
    expect(off.delivery.checksummed).toBeUndefined();
    expect(off.status).toBe('ok');
  });
});
