/**
 * Topics on a real Pulsar standalone, through the runner: one topic per workload topic
 * (<topic>-t<i>, each with the run's subscription), producer p writing topic p mod 3 and
 * consumer c reading topic c mod 3. The per-topic counts add up to the run's totals, and
 * each topic's own counts (read back, and delivered to its subscription) agree with the
 * harness's for that topic.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/pulsar/index.ts';
import { runOnce } from '../../src/harness/runner.ts';
import { removeRunDirs, runSpec } from '../fixtures/run-spec.ts';
import { expectTopicsAddUp } from '../fixtures/topics.ts';

afterAll(removeRunDirs);

describe('pulsar topics through the runner', { timeout: 300_000 }, () => {
  it('3 topics × 3 producers × 3 consumers: a topic each, per-topic counts add up and each topic agrees', async () => {
    const r = await runOnce(runSpec(adapter, {}, { load: { producers: 3, consumers: 3, topics: 3, durationMs: 3000, batchSize: 16 } }));
    expectTopicsAddUp(r, 3);
    expect(r.config.topics).toEqual([0, 1, 2].map((t) => expect.stringMatching(new RegExp(`/messages-t${t}$`))));
    // one consumer per topic's subscription: auto is exclusive, as with one topic and one consumer
    expect(r.config).toMatchObject({ subscriptionType: 'Exclusive' });
  });
});
