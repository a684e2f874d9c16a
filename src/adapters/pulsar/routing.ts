/**
 * One harness producer over the partitions of a topic: a wire producer per partition,
 * all with the same name (as the Java client's PartitionedProducerImpl; deduplication is
 * per partition), and each message routed as the Java client routes it:
 *   - without keys, round-robin per batch (RoundRobinPartitionMessageRouter with
 *     batching): messages go to one partition until its open batch is sent, then to the
 *     next, so entries stay as full as on one topic and every partition gets its share;
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
import { keyPartition } from './wire/murmur3.ts';
import type { Producer as WireProducer } from './wire/index.ts';

export class PartitionRoute {
  private current = 0;
  /** messages went to `current` since it was chosen */
  private used = false;
  private readonly waiters: (() => void)[] = [];
  /** per key index: its partition, -1 until first needed */
  private readonly keyPartitions: Int32Array;
  private readonly keyNames: string[] = [];

  constructor(
    readonly producers: readonly WireProducer[],
    private readonly window: number,
    /** messages an open batch takes before it is sent; 1 without batching */
    private readonly batchMessages: number,
    private readonly keys: KeyPlan,
    private readonly producerId: number,
  ) {
    this.keyPartitions = new Int32Array(keys.space).fill(-1);
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

  private sendRoundRobin(bytes: Uint8Array, size: number, count: number, firstSeq: number): void {
    const n = this.producers.length;
    let i = 0;
    while (i < count) {
      let p = this.producers[this.current]!;
      if (this.used && p.openCount === 0) {
        this.current = (this.current + 1) % n;
        p = this.producers[this.current]!;
        this.used = false;
      }
      const m = Math.min(count - i, Math.max(1, this.batchMessages - p.openCount));
      p.sendMessages(bytes.subarray(i * size, (i + m) * size), size, m, firstSeq + i);
      this.used = true;
      i += m;
    }
  }

  private sendKeyed(bytes: Uint8Array, size: number, count: number, firstSeq: number): void {
    for (let i = 0; i < count; i++) {
      const seq = firstSeq + i;
      const k = keyIndex(this.keys, this.producerId, seq);
      const key = (this.keyNames[k] ??= keyText(k));
      let partition = this.keyPartitions[k]!;
      if (partition < 0) partition = this.keyPartitions[k] = keyPartition(key, this.producers.length);
      this.producers[partition]!.sendKeyed(bytes, i * size, size, seq, key);
    }
  }

  flush(timeoutMs: number): Promise<boolean[]> {
    return Promise.all(this.producers.map((p) => p.flush(timeoutMs)));
  }

  close(): Promise<PromiseSettledResult<void>[]> {
    return Promise.allSettled(this.producers.map((p) => p.close()));
  }
}
