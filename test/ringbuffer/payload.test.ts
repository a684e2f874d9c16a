/**
 * payload: on the ring, through the runner: a lognormal range (each size change is a
 * frame of its own), inline and through the ring server process, and a file's bodies;
 * every body checked and intact, bytes accounted from the sizes that arrived.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/ringbuffer/index.ts';
import { runOnce } from '../../src/harness/runner.ts';
import { MIN_MESSAGE_SIZE } from '../../src/core/envelope.ts';
import { removeRunDirs } from '../fixtures/run-spec.ts';
import { expectPayloadAccounted, payloadSpec } from '../fixtures/payload-run.ts';

afterAll(removeRunDirs);

describe('ringbuffer payloads through the runner', { timeout: 120_000 }, () => {
  it('a lognormal 300..4000 range with half random bytes, inline: all checked, 0 corrupted, bytes accounted', async () => {
    const spec = payloadSpec(adapter, {});
    expectPayloadAccounted(await runOnce(spec), spec);
  });

  it('the same through the ring server process', async () => {
    const spec = payloadSpec(adapter, { process: 'child' });
    expectPayloadAccounted(await runOnce(spec), spec);
  });

  it('bodies from a file, cycled: every message one of its lines after the envelope', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-bodies-'));
    const file = path.join(dir, 'bodies.txt');
    fs.writeFileSync(file, ['{"order":1}', 'x'.repeat(700), '{"order":"three"}'].join('\n') + '\n');
    try {
      const payload = { file, randomBytes: 0, seed: 1, verify: 'all' as const };
      const spec = payloadSpec(adapter, {}, payload, { load: { messageSize: MIN_MESSAGE_SIZE + 700 } });
      const r = await runOnce(spec);
      expect(r.status).toBe('ok');
      expect(r.delivery.checksummed).toBe(r.delivery.received);
      expect(r.delivery.corrupted).toBe(0);
      // the three lines in turn: 11, 700 and 17 body bytes
      const mean = MIN_MESSAGE_SIZE + (11 + 700 + 17) / 3;
      expect(Math.abs(r.throughput.messageBytes! / r.throughput.msgsPerSec - mean)).toBeLessThan(mean * 0.01);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
