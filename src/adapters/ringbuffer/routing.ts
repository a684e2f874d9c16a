/**
 * Which partition's lane each message of a batch goes to (`partitions: N`), by the
 * workload's own routing (src/core/partitions.ts: the key's Murmur3 hash, or a producer
 * batch at a time without keys), so a partition means on the ring what it means on
 * Pulsar and NATS, and the harness's per-partition counts are the lanes' counts.
 */
import type { KeyPlan } from '../../core/keys.ts';
import { PartitionRouter, type PartitionPlan } from '../../core/partitions.ts';

/** In the worker init when the run has more than one partition; a type so that it structured-clones. */
export type RingRouting = {
  plan: PartitionPlan;
  keys: KeyPlan;
};

/** The routers of each origin producer a producer (or a stage's forwarder) writes for. */
export class BatchRouter {
  private readonly routers = new Map<number, PartitionRouter>();
  private readonly out: number[] = [];
  /** the one run of an unpartitioned batch; its count is set per call, nothing allocated */
  private readonly whole = [0, 0, 0];

  constructor(private readonly routing: RingRouting | undefined) {}

  /**
   * The runs of consecutive messages of the batch that share a partition, in order, as
   * flat triples (partition, index of the run's first message in the batch, messages).
   * Without routing the whole batch is one run on partition 0. The array is reused by
   * the next call.
   */
  runs(origin: number, firstSeq: number, count: number): readonly number[] {
    if (this.routing) return this.routerOf(origin).runs(firstSeq, count, this.out);
    this.whole[2] = count;
    return this.whole;
  }

  private routerOf(origin: number): PartitionRouter {
    let r = this.routers.get(origin);
    if (!r) this.routers.set(origin, (r = new PartitionRouter(this.routing!.plan, this.routing!.keys, origin)));
    return r;
  }
}
