/**
 * Partitions and keys on a real nats-server, through the runner: 4 partitions × 2
 * producers × 2 consumers, with keys and without. Every message arrives once and in order
 * within its partition (or key); the per-partition counts add up to the run's totals, and
 * the stream's own count per partition subject, and each partition durable's deliveries,
 * agree with them: the subject each message went to is the partition the harness counts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/nats/index.ts';
import { runOnce } from '../../src/harness/runner.ts';
import type { KeyPlan } from '../../src/core/keys.ts';
import { removeRunDirs, runSpec } from '../fixtures/run-spec.ts';
import { expectPartitionsAddUp } from '../fixtures/partitions.ts';

afterAll(removeRunDirs);

const load = { producers: 2, consumers: 2, partitions: 4, durationMs: 3000, batchSize: 16 };

describe('nats partitions through the runner', { timeout: 120_000 }, () => {
  it('4 partitions × 2 producers with random keys: per-partition counts add up and the stream agrees', async () => {
    const keys: KeyPlan = { distribution: 'random', space: 100 };
    const r = await runOnce(runSpec(adapter, {}, { load: { ...load, keys } }));
    expectPartitionsAddUp(r, 4);
    expect(r.config.subjects).toMatch(/\.p<partition>\.<key>$/);
    expect(r.broker?.detail?.subjects).toBe(100);
  });

  it('4 partitions × 2 producers without keys: a producer batch per partition in turn, in order per partition', async () => {
    const r = await runOnce(runSpec(adapter, {}, { load }));
    expectPartitionsAddUp(r, 4);
    expect(r.broker?.detail?.subjects).toBe(4);
  });
});
