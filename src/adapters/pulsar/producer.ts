/**
 * The harness's Producer over the wire producer. One Pulsar producer per harness producer
 * and partition (routing.ts), named busbench-<runId>-p<id>, with the harness's sequence numbers as Pulsar sequence ids,
 * so broker deduplication recognises a resend after reconnection. Its pending limit is the
 * harness's in-flight window. Each entry's fate goes to the AckSink: receipt → acked; a
 * receipt of id -1:-1 (broker deduplication: a sequence id at or below the producer's
 * high-water mark, stored now or not) → duplicate; a definitive refusal (or never sent) →
 * failed; timeout, connection given up, closed while waiting → unknown.
 */
import type { AckSink, OutboundBatch, Producer, ProducerSpec } from '../../core/contract.ts';
import { NO_KEYS } from '../../core/keys.ts';
import { partitionTopics, producerName, type PulsarInit } from './init.ts';
import { PartitionRoute } from './routing.ts';
import { isDefinitiveSendError, type PulsarClient } from './wire/index.ts';

/** How often a producer blocked on a full window looks at control.stopping(). */
const STOP_POLL_MS = 50;

/**
 * The harness's Producer: one Pulsar producer (per partition) per origin producer. At stage 0 that is the
 * harness producer itself. A pipeline stage forwards for every origin, with the origin's
 * sequence numbers, and deduplication keeps one highest sequence id per producer name:
 * forwarding two origins' sequences through one name would drop the lower as duplicates.
 */
export class PulsarProducer implements Producer {
  private readonly routes = new Map<number, PartitionRoute>();

  constructor(
    private readonly client: PulsarClient,
    private readonly init: PulsarInit,
    private readonly spec: ProducerSpec,
    private readonly acks: AckSink,
  ) {}

  /** Creates (and keeps) the Pulsar producers for an origin producer: one per partition. */
  async open(origin: number): Promise<PartitionRoute> {
    const init = this.init;
    const acks = this.acks;
    // A batch entry is deduplicated as a whole, by its lowest sequence id. A stage
    // forwarder re-sends after a crash in whatever grouping the redelivery came in, so
    // an entry that overlaps one already stored would drop its new messages with it:
    // with deduplication, forwarders send one message per entry.
    const batching = init.batching && (init.stage === 0 || !init.dedup);
    // settled entries wake the route's waiters; the route exists once every producer does
    const made: { route?: PartitionRoute } = {};
    const opened = await Promise.allSettled(
      partitionTopics(init).map((topic) =>
        this.client.createProducer({
          topic,
          producerName: producerName(init, origin),
          batching,
          batchMaxMessages: init.batchMaxMessages,
          batchMaxDelayMs: init.batchMaxDelayMs,
          batchMaxBytes: init.batchMaxBytes,
          compression: init.compression,
          // the route keeps the window over all partitions together
          maxPendingMessages: this.spec.maxInFlight,
          sendTimeoutMs: init.sendTimeoutMs,
          onEntry: (seq, count, err, ledgerId, entryId) => {
            // -1:-1 is broker deduplication's answer: "already stored from an earlier send"
            if (!err) {
              if (ledgerId === -1 && entryId === -1) acks.duplicate(seq, count);
              else acks.acked(seq, count);
            }
            else if (isDefinitiveSendError(err)) acks.failed(seq, count, err.message);
            else acks.unknown(seq, count, err.message);
            made.route?.settled();
          },
        }),
      ),
    );
    const producers = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = opened.find((r) => r.status === 'rejected');
    if (failed) {
      await Promise.allSettled(producers.map((p) => p.close()));
      throw failed.reason;
    }
    const route = new PartitionRoute(producers, this.spec.maxInFlight, init.partitionChunk ?? init.batchMaxMessages, init.keys ?? NO_KEYS, origin);
    made.route = route;
    this.routes.set(origin, route);
    return route;
  }

  send(batch: OutboundBatch): void | Promise<void> {
    const r = this.routes.get(batch.producerId);
    // The common case, synchronous: the whole batch fits in the window.
    if (r && r.room >= batch.count) {
      r.send(batch.bytes, batch.size, batch.count, batch.firstSeq);
      return;
    }
    // The harness reuses `bytes` once send resolves; the rest is copied by send.
    return this.sendInParts(batch, r);
  }

  private async sendInParts(batch: OutboundBatch, known: PartitionRoute | undefined): Promise<void> {
    const r = known ?? (await this.open(batch.producerId));
    const { size, count, firstSeq } = batch;
    let i = 0;
    while (i < count) {
      const room = r.room;
      if (room > 0) {
        const n = Math.min(room, count - i);
        r.send(batch.bytes.subarray(i * size, (i + n) * size), size, n, firstSeq + i);
        i += n;
        continue;
      }
      if (this.spec.control.stopping()) {
        // Counted as sent by the harness but never handed to the broker.
        this.acks.failed(firstSeq + i, count - i, 'pulsar: not sent, the run stopped while the in-flight window was full');
        return;
      }
      const wait = r.waitForRoom();
      if (wait) await Promise.race([wait, new Promise((res) => setTimeout(res, STOP_POLL_MS))]);
    }
  }

  async flush(timeoutMs: number): Promise<void> {
    await Promise.all([...this.routes.values()].map((r) => r.flush(timeoutMs)));
  }

  async close(): Promise<void> {
    // Whatever is still unanswered reaches the AckSink as unknown (or failed if never sent).
    await Promise.allSettled([...this.routes.values()].map((r) => r.close()));
    await this.client.close();
  }
}
