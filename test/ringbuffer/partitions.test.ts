/**
 * Partitions and keys on the ring, through the runner, in both modes: 4 partitions × 2
 * producers × 2 consumers. Each partition is a lane set of its own (one lane per producer),
 * read by one consumer; each message takes the lane of the partition the workload routes
 * it to (the key's Murmur3 hash, or a producer batch at a time without keys), so the
 * per-partition counts add up to the run's totals and, in the child mode, agree with the
 * ring server's own counters of each partition's lanes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/ringbuffer/index.ts';
import { runOnce } from '../../src/harness/runner.ts';
import type { KeyPlan } from '../../src/core/keys.ts';
import { removeRunDirs, runSpec } from '../fixtures/run-spec.ts';
import { expectPartitionsAddUp } from '../fixtures/partitions.ts';

afterAll(removeRunDirs);

const keys: KeyPlan = { distribution: 'random', space: 100 };
const load = { producers: 2, consumers: 2, partitions: 4, keys, durationMs: 2000, batchSize: 16 };

describe('ringbuffer partitions through the runner', { timeout: 120_000 }, () => {
  it('inline, 4 partitions × 2 producers with random keys: a lane set per partition, per-partition counts add up', async () => {
    const r = await runOnce(runSpec(adapter, {}, { load }));
    expectPartitionsAddUp(r, 4, { broker: false });
    expect(r.config).toMatchObject({ process: 'inline', lanes: 8, partitions: 4 });
  });

  it('child, 4 partitions × 2 producers with random keys: the ring server counts each partition as the harness does', async () => {
    const r = await runOnce(runSpec(adapter, { process: 'child' }, { load }));
    expectPartitionsAddUp(r, 4);
    expect(r.config).toMatchObject({ process: 'child', lanes: 8, partitions: 4 });
  });

  it('inline, 4 partitions without keys: a producer batch per partition in turn', async () => {
    const r = await runOnce(runSpec(adapter, {}, { load: { ...load, keys: { distribution: 'none', space: 0 } } }));
    expectPartitionsAddUp(r, 4, { broker: false });
  });

  it('refuses more consumers than partitions, naming both', async () => {
    await expect(runOnce(runSpec(adapter, {}, { load: { ...load, producers: 4, consumers: 3, partitions: 2 } }))).rejects.toThrow(/3 consumers for 2 partitions; a partition is read by one consumer/);
  });
});
