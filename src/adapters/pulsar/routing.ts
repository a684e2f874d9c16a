/**
 * One harness producer over the partitions of a topic: a wire producer per partition,
 * all with the same name (as the Java client's PartitionedProducerImpl; deduplication is
 * per partition), and each message routed to the partition the workload's partition plan
 * names (src/core/partitions.ts), the one meaning every system shares:
 *   - without keys, `chunk` consecutive sequences (a producer batch) to one partition,
 *     then the next, so entries stay as full as on one topic and every partition gets its
 *     share (the Java client's RoundRobinPartitionMessageRouter with batching does the
 *     same, switching when its open batch is sent; ours is a function of the sequence,
 *     so the harness can count per partition without a record of where each went);
 *   - with keys, by the key's hash (Murmur3_32Hash) modulo the partitions, so a key stays
 *     on one partition and in order there.
 * A producer's messages are then in order per partition (per key with keys), not across
 * them: the consumer names each message's partition (DeliveryBatch.lane) and the ledger
 * checks order per (producer, partition), or per key.
 *
 * The harness's window (maxInFlight unacknowledged messages per producer) holds for the
 * partitions together: each wire producer may hold the whole window, and `room` is what
 * the window leaves over all of them.
 */
import { keyIndex, keyText, type KeyPlan } from '../../core/keys.ts';
import { PartitionRouter } from '../../core/partitions.ts';
import type { Producer as WireProducer } from './wire/index.ts';

export class PartitionRoute {
  private readonly waiters: (() => void)[] = [];
  private readonly keyNames: string[] = [];
  /** reused by every batch's partition runs */
  private readonly runs: number[] = [];
  private readonly router: PartitionRouter;

  constructor(
    readonly producers: readonly WireProducer[],
    private readonly window: number,
    /** without keys, consecutive sequences that go to one partition */
    chunk: number,
    private readonly keys: KeyPlan,
    private readonly producerId: number,
  ) {
    this.router = new PartitionRouter({ count: producers.length, chunk: Math.max(1, chunk) }, keys, producerId);
  }

  /** What the window leaves, over every partition. */
  get room(): number {
    let pending = 0;
    for (const p of this.producers) pending += p.pendingCount;
    return this.window - pending;
  }

  /** Each wire producer's settled entries call this: room may have come back. */
  settled(): void {
    if (this.waiters.length === 0) return;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once there is room; sends the open batches first (waiting for their timers would stall a full window). */
  waitForRoom(): Promise<void> | undefined {
    if (this.room > 0) return undefined;
    for (const p of this.producers) p.flushBatch();
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** `count` messages of `size` bytes in `bytes`, sequences firstSeq.. (copied). Check `room` first. */
  send(bytes: Uint8Array, size: number, count: number, firstSeq: number): void {
    if (this.keys.distribution !== 'none') this.sendKeyed(bytes, size, count, firstSeq);
    else if (this.producers.length === 1) this.producers[0]!.sendMessages(bytes, size, count, firstSeq);
    else this.sendRoundRobin(bytes, size, count, firstSeq);
  }

  /** Runs of consecutive sequences that share a partition go to its producer together. */
  private sendRoundRobin(bytes: Uint8Array, size: number, count: number, firstSeq: number): void {
    const runs = this.router.runs(firstSeq, count, this.runs);
    for (let r = 0; r < runs.length; r += 3) {
      const i = runs[r + 1]!;
      const m = runs[r + 2]!;
      this.producers[runs[r]!]!.sendMessages(bytes.subarray(i * size, (i + m) * size), size, m, firstSeq + i);
    }
  }

  private sendKeyed(bytes: Uint8Array, size: number, count: number, firstSeq: number): void {
    for (let i = 0; i < count; i++) {
      const seq = firstSeq + i;
      const k = keyIndex(this.keys, this.producerId, seq);
      const key = (this.keyNames[k] ??= keyText(k));
      this.producers[this.router.partition(seq)]!.sendKeyed(bytes, i * size, size, seq, key);
    }
  }

  flush(timeoutMs: number): Promise<boolean[]> {
    return Promise.all(this.producers.map((p) => p.flush(timeoutMs)));
  }

  close(): Promise<PromiseSettledResult<void>[]> {
    return Promise.allSettled(this.producers.map((p) => p.close()));
  }
}
