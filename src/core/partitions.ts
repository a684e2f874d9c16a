/**
 * Partitions, a workload field (`partitions`): the ordering domains a run's messages are
 * spread over, with one meaning on every system (Pulsar: the partitions of a partitioned
 * topic; NATS: a subject token per partition in one stream, each read by a durable
 * consumer of its own; see the README). Which partition a message takes is a function of
 * the message alone, so producers route by it, consumers and the ledger attribute by it,
 * and per-partition counts need no record of where each message went:
 *   - with keys, the key's Murmur3 hash modulo the partitions (the Java Pulsar client's
 *     key routing), so a key stays on one partition and in order there;
 *   - without keys, each producer's messages go to the partitions in turn, `chunk`
 *     consecutive sequences at a time (the producer batch), starting at a partition that
 *     depends on the producer, so that producers spread and entries stay as full as on
 *     one topic.
 */
import { keyIndex, keyText, type KeyPlan } from './keys.ts';
import { keyPartition } from './murmur3.ts';

/** A type, not an interface, so that it structured-clones into a worker's init (Cloneable). */
export type PartitionPlan = {
  /** partitions, at least 1 */
  count: number;
  /** consecutive sequences of a producer that go to one partition without keys, at least 1 */
  chunk: number;
};

export const ONE_PARTITION: PartitionPlan = { count: 1, chunk: 1 };
/** Pulsar's own limit for a partitioned topic in busbench (pulsar.partitions) */
export const MAX_PARTITIONS = 256;

/** The partition of each of one producer's messages, with the key partitions cached. */
export class PartitionRouter {
  /** per key index: its partition, -1 until first needed */
  private readonly keyPartitions: Int32Array;

  constructor(
    readonly plan: PartitionPlan,
    readonly keys: KeyPlan,
    readonly producerId: number,
  ) {
    this.keyPartitions = new Int32Array(plan.count > 1 ? keys.space : 0).fill(-1);
  }

  partition(seq: number): number {
    const n = this.plan.count;
    if (n <= 1) return 0;
    if (this.keys.distribution === 'none') return (Math.floor(seq / this.plan.chunk) + this.producerId) % n;
    const k = keyIndex(this.keys, this.producerId, seq);
    let p = this.keyPartitions[k]!;
    if (p < 0) p = this.keyPartitions[k] = keyPartition(keyText(k), n);
    return p;
  }

  /**
   * The runs of consecutive sequences firstSeq.. firstSeq+count-1 that share a partition,
   * in order, as flat triples (partition, offset of the run's first message, messages)
   * written into `out` (cleared first, so a caller can reuse one array per batch).
   */
  runs(firstSeq: number, count: number, out: number[]): number[] {
    // Written in place and cut to length at the end: `out.length = 0` would drop the
    // backing store and the next write allocate a new one, once per batch.
    let n = 0;
    if (count > 0) {
      let from = 0;
      let p = this.partition(firstSeq);
      for (let i = 1; i < count; i++) {
        const q = this.partition(firstSeq + i);
        if (q === p) continue;
        out[n++] = p;
        out[n++] = from;
        out[n++] = i - from;
        from = i;
        p = q;
      }
      out[n++] = p;
      out[n++] = from;
      out[n++] = count - from;
    }
    out.length = n;
    return out;
  }
}
