/**
 * payload: on a real Pulsar standalone, through the runner: a lognormal 300..4000 range
 * with half random bytes, two producers, verify: all (batches of messages of differing
 * sizes, as the producer's batch builder packs them). Every body arrives intact and the
 * bytes are accounted from the sizes that arrived.
 */
import { afterAll, describe, it } from 'vitest';
import { adapter } from '../../src/adapters/pulsar/index.ts';
import { runOnce } from '../../src/harness/runner.ts';
import { removeRunDirs } from '../fixtures/run-spec.ts';
import { expectPayloadAccounted, payloadSpec } from '../fixtures/payload-run.ts';

afterAll(removeRunDirs);

describe('pulsar payloads through the runner', { timeout: 300_000 }, () => {
  it('a range payload with verify: all: 0 corrupted, bytes accounted', async () => {
    const spec = payloadSpec(adapter, {});
    expectPayloadAccounted(await runOnce(spec), spec);
  });
});
