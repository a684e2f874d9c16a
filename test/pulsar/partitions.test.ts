/**
 * The workload's partitions on a real Pulsar standalone, through the runner: 4 partitions
 * × 2 producers × 2 consumers with keys. Every message arrives once and in order per key;
 * the per-partition counts add up to the run's totals, and the broker's own per-partition
 * counters (what each partition took in, what it delivered to the run's subscription)
 * agree with them: each message went to the partition the harness counts it in.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/pulsar/index.ts';
import { runOnce } from '../../src/harness/runner.ts';
import type { KeyPlan } from '../../src/core/keys.ts';
import { removeRunDirs, runSpec } from '../fixtures/run-spec.ts';
import { expectPartitionsAddUp } from '../fixtures/partitions.ts';

afterAll(removeRunDirs);

describe('pulsar partitions through the runner', { timeout: 300_000 }, () => {
  it('4 partitions × 2 producers with random keys: per-partition counts add up and the broker agrees', async () => {
    const keys: KeyPlan = { distribution: 'random', space: 100 };
    // failover: each partition is read by one consumer, as a NATS partition durable is
    const r = await runOnce(runSpec(adapter, { subscriptionType: 'failover' }, { load: { producers: 2, consumers: 2, partitions: 4, keys, durationMs: 3000, batchSize: 16 } }));
    expectPartitionsAddUp(r, 4);
    expect(r.config).toMatchObject({ partitions: 4, subscriptionType: 'Failover' });
  });
});
