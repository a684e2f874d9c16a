/**
 * Topics on a real nats-server, through the runner: one stream per topic
 * (busbench_<run>_t<i>), producer p writing topic p mod N and consumer c reading topic
 * c mod N. The per-topic counts add up to the run's totals, and each topic stream's own
 * counts (stored, delivered to its durable) agree with the harness's for that topic:
 * each message went to the stream of the topic the harness counts it in.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/nats/index.ts';
import { runOnce } from '../../src/harness/runner.ts';
import { removeRunDirs, runSpec } from '../fixtures/run-spec.ts';
import { expectTopicsAddUp } from '../fixtures/topics.ts';
import { expectPartitionsAddUp } from '../fixtures/partitions.ts';

afterAll(removeRunDirs);

const load = { producers: 3, consumers: 3, topics: 3, durationMs: 3000, batchSize: 16 };

describe('nats topics through the runner', { timeout: 120_000 }, () => {
  it('3 topics × 3 producers × 3 consumers: a stream per topic, per-topic counts add up and each stream agrees', async () => {
    const spec = runSpec(adapter, {}, { load });
    const r = await runOnce(spec);
    expectTopicsAddUp(r, 3);
    const id = spec.runId.replace(/[^\w-]/g, '_');
    expect(r.config.topics).toEqual([0, 1, 2].map((t) => `busbench_${id}_t${t}`));
    // no single stream named as if it were the run's (it was topic 0's)
    expect(r.config).not.toHaveProperty('stream');
    expect(r.config).not.toHaveProperty('durable');
  });

  it('2 topics × 2 partitions × 4 producers × 4 consumers with keys: topics and partitions both add up', async () => {
    const spec = runSpec(adapter, {}, { load: { ...load, producers: 4, consumers: 4, topics: 2, partitions: 2, keys: { distribution: 'random', space: 50 } } });
    const r = await runOnce(spec);
    expectTopicsAddUp(r, 2);
    expectPartitionsAddUp(r, 2);
    // every topic's subjects, not topic 0's alone; each topic's stream has the same durables
    const id = spec.runId.replace(/[^\w-]/g, '_');
    expect(r.config.subjects).toEqual([0, 1].map((t) => `busbench.${id}.t${t}.orders.p<partition>.<key>`));
    expect(r.config.durables).toEqual(['busbench-p0', 'busbench-p1']);
  });
});
