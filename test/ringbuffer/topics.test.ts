/**
 * Topics on the ring, through the runner, in both modes: 3 topics × 3 producers × 3
 * consumers. Producer p writes topic p mod 3 and consumer c reads topic c mod 3, each
 * topic a lane set of its own; the per-topic counts add up to the run's totals and, in the
 * child mode, agree with the ring server's counters of each topic's lanes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/ringbuffer/index.ts';
import { runOnce } from '../../src/harness/runner.ts';
import { removeRunDirs, runSpec } from '../fixtures/run-spec.ts';
import { expectTopicsAddUp } from '../fixtures/topics.ts';
import { expectPartitionsAddUp } from '../fixtures/partitions.ts';

afterAll(removeRunDirs);

const load = { producers: 3, consumers: 3, topics: 3, durationMs: 2000, batchSize: 16 };

describe('ringbuffer topics through the runner', { timeout: 120_000 }, () => {
  it('inline, 3 topics × 3 producers × 3 consumers: per-topic counts add up', async () => {
    const r = await runOnce(runSpec(adapter, {}, { load }));
    expectTopicsAddUp(r, 3, { broker: false });
    expect(r.config).toMatchObject({ process: 'inline', lanes: 3, topics: 3 });
  });

  it('child, 3 topics × 3 producers × 3 consumers: the ring server counts each topic as the harness does', async () => {
    const r = await runOnce(runSpec(adapter, { process: 'child' }, { load }));
    expectTopicsAddUp(r, 3);
  });

  it('child, 2 topics × 2 partitions × 4 producers × 4 consumers with keys: topics and partitions both add up', async () => {
    const r = await runOnce(runSpec(adapter, { process: 'child' }, { load: { ...load, producers: 4, consumers: 4, topics: 2, partitions: 2, keys: { distribution: 'random', space: 50 } } }));
    expectTopicsAddUp(r, 2);
    expectPartitionsAddUp(r, 2);
    expect(r.config).toMatchObject({ lanes: 8, topics: 2, partitions: 2 });
  });

  it('refuses fewer consumers than topics, naming both', async () => {
    await expect(runOnce(runSpec(adapter, {}, { load: { ...load, consumers: 2 } }))).rejects.toThrow(/2 consumers for 3 topics: consumer c reads topic c mod 3/);
  });
});
