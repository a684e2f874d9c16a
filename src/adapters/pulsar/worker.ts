/**
 * Worker-thread half of Pulsar: one client (one connection) per harness producer or
 * consumer, built on the wire client in ./wire.
 *
 * Producers: one Pulsar producer per harness producer, named busbench-<runId>-p<id>, with
 * the harness's sequence numbers as Pulsar sequence ids, so broker deduplication
 * recognises a resend after reconnection. Its pending limit is the harness's in-flight
 * window. Each entry's fate goes to the AckSink: receipt → acked; a definitive refusal
 * (or never sent) → failed; timeout, connection given up, closed while waiting → unknown.
 */
import type { AckSink, Cloneable, Consumer, ConsumerSpec, DeliveryBatch, OutboundBatch, Producer, ProducerSpec, WorkerSide } from '../../core/contract.ts';
import { EMPTY_BATCH } from '../../core/contract.ts';
import { atStage, consumerTopics, fromCloneable, producerName, producerTopic, type PulsarInit } from './init.ts';
import { isDefinitiveSendError, PulsarClient, type Consumer as WireConsumer, type Producer as WireProducer, type ReceivedBatch } from './wire/index.ts';

/** How often a producer blocked on a full window looks at control.stopping(). */
const STOP_POLL_MS = 50;

function newClient(init: PulsarInit): PulsarClient {
  // Reconnections are quick to retry: the durability checks measure recovery time.
  return new PulsarClient({ serviceUrl: init.serviceUrl, reconnectInitialMs: 50, reconnectMaxMs: 1_000 });
}

class PulsarProducer implements Producer {
  constructor(
    private readonly client: PulsarClient,
    private readonly producer: WireProducer,
    private readonly spec: ProducerSpec,
    private readonly acks: AckSink,
  ) {}

  send(batch: OutboundBatch): void | Promise<void> {
    const p = this.producer;
    const room = p.room;
    // The common case, synchronous: the whole batch fits in the window.
    if (room >= batch.count) {
      p.sendMessages(batch.bytes, batch.size, batch.count, batch.firstSeq);
      return;
    }
    // The harness reuses `bytes` once send resolves; the rest is copied by sendMessages.
    return this.sendInParts(batch);
  }

  private async sendInParts(batch: OutboundBatch): Promise<void> {
    const p = this.producer;
    const { size, count, firstSeq } = batch;
    let i = 0;
    while (i < count) {
      const room = p.room;
      if (room > 0) {
        const n = Math.min(room, count - i);
        p.sendMessages(batch.bytes.subarray(i * size, (i + n) * size), size, n, firstSeq + i);
        i += n;
        continue;
      }
      if (this.spec.control.stopping()) {
        // Counted as sent by the harness but never handed to the broker.
        this.acks.failed(firstSeq + i, count - i, 'pulsar: not sent, the run stopped while the in-flight window was full');
        return;
      }
      const wait = p.waitForRoom();
      if (wait) await Promise.race([wait, new Promise((r) => setTimeout(r, STOP_POLL_MS))]);
    }
  }

  async flush(timeoutMs: number): Promise<void> {
    await this.producer.flush(timeoutMs);
  }

  async close(): Promise<void> {
    // Whatever is still unanswered reaches the AckSink as unknown (or failed if never sent).
    await this.producer.close();
    await this.client.close();
  }
}

/** Consumers of one subscription on one or more topics (the partitions), read in turn. */
class PulsarConsumer implements Consumer {
  private next = 0;
  private last: WireConsumer | undefined;

  constructor(
    private readonly client: PulsarClient,
    private readonly consumers: WireConsumer[],
    private readonly cumulative: boolean,
  ) {}

  receive(max: number, maxWaitMs: number): DeliveryBatch | Promise<DeliveryBatch> {
    if (this.consumers.length === 1) {
      const c = this.consumers[0]!;
      this.last = c;
      return c.receiveBatch(max, maxWaitMs);
    }
    const ready = this.takeReady(max);
    if (ready || maxWaitMs <= 0) return ready ?? EMPTY_BATCH;
    return this.waitAny(max, maxWaitMs);
  }

  ack(batch: DeliveryBatch): void {
    if (batch.count === 0 || !this.last) return;
    this.last.ackBatch(batch as ReceivedBatch, this.cumulative);
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /** The next consumer in turn with messages queued, without waiting. */
  private takeReady(max: number): ReceivedBatch | undefined {
    const n = this.consumers.length;
    for (let k = 0; k < n; k++) {
      const c = this.consumers[(this.next + k) % n]!;
      if (c.queuedMessages > 0) {
        this.next = (this.next + k + 1) % n;
        this.last = c;
        return c.receiveBatch(max, 0) as ReceivedBatch;
      }
    }
    return undefined;
  }

  private waitAny(max: number, maxWaitMs: number): Promise<DeliveryBatch> {
    return new Promise<DeliveryBatch>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        for (const c of this.consumers) c.onArrival = null;
        resolve(this.takeReady(max) ?? EMPTY_BATCH);
      };
      const timer = setTimeout(done, maxWaitMs);
      for (const c of this.consumers) c.onArrival = done;
    });
  }
}

export const workerSide: WorkerSide = {
  async createProducer(raw: Cloneable, spec: ProducerSpec, acks: AckSink): Promise<Producer> {
    const init = atStage(fromCloneable(raw), spec.stage);
    const client = newClient(init);
    try {
      const producer = await client.createProducer({
        topic: producerTopic(init, spec.producerId),
        producerName: producerName(init, spec.producerId),
        // A batch entry is deduplicated as a whole, by its lowest sequence id. A stage
        // forwarder re-sends after a crash in whatever grouping the redelivery came in, so
        // an entry that overlaps one already stored would drop its new messages with it:
        // forwarders send one message per entry.
        batching: init.batching && init.stage === 0,
        batchMaxMessages: init.batchMaxMessages,
        batchMaxDelayMs: init.batchMaxDelayMs,
        batchMaxBytes: init.batchMaxBytes,
        maxPendingMessages: spec.maxInFlight,
        sendTimeoutMs: init.sendTimeoutMs,
        onEntry: (seq, count, err) => {
          if (!err) acks.acked(seq, count);
          else if (isDefinitiveSendError(err)) acks.failed(seq, count, err.message);
          else acks.unknown(seq, count, err.message);
        },
      });
      return new PulsarProducer(client, producer, spec, acks);
    } catch (err) {
      await client.close();
      throw err;
    }
  },

  async createConsumer(raw: Cloneable, spec: ConsumerSpec): Promise<Consumer> {
    const init = atStage(fromCloneable(raw), spec.stage);
    const client = newClient(init);
    try {
      const consumers = await Promise.all(
        consumerTopics(init).map((topic) =>
          client.subscribe({
            topic,
            subscription: init.subscription,
            subType: init.subscriptionType,
            consumerName: `busbench-${init.runId}-c${spec.consumerId}`,
            receiverQueueSize: init.receiverQueueSize,
            // The adapter created the subscription at the start; this only matters if it is gone.
            initialPosition: 'earliest',
          }),
        ),
      );
      return new PulsarConsumer(client, consumers, init.cumulativeAcks);
    } catch (err) {
      await client.close();
      throw err;
    }
  },
};
