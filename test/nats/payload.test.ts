/**
 * payload: on a real nats-server, through the runner: a lognormal 300..4000 range with
 * half random bytes, two producers, verify: all. Every body arrives intact, the bytes are
 * accounted from the sizes that arrived, and the stream holds exactly what was sent.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/nats/index.ts';
import { runOnce } from '../../src/harness/runner.ts';
import { removeRunDirs } from '../fixtures/run-spec.ts';
import { expectPayloadAccounted, payloadSpec } from '../fixtures/payload-run.ts';

afterAll(removeRunDirs);

describe('nats payloads through the runner', { timeout: 120_000 }, () => {
  it('a range payload with verify: all: 0 corrupted, bytes accounted, the stream agrees', async () => {
    const spec = payloadSpec(adapter, {});
    const r = await runOnce(spec);
    expectPayloadAccounted(r, spec);
    expect(r.broker?.stored).toBe(r.delivery.sent);
  });
});
