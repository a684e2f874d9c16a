/**
 * The harness's Consumer on Pulsar: wire consumers of one subscription on one or more
 * topics (the partitions), read in turn, all on one client.
 */
import type { Consumer, DeliveryBatch, DiscardedEntries } from '../../core/contract.ts';
import { EMPTY_BATCH } from '../../core/contract.ts';
import { connectOf, consumerTopics, type PulsarInit } from './init.ts';
import { PulsarClient, type Consumer as WireConsumer, type ReceivedBatch, type TxnId } from './wire/index.ts';

/** A client per harness producer, consumer or forwarder (one connection each). */
export function newClient(init: PulsarInit): PulsarClient {
  // Reconnections are quick to retry: the durability checks measure recovery time.
  return new PulsarClient({ ...connectOf(init), reconnectInitialMs: 50, reconnectMaxMs: 1_000 });
}

/** Subscribes to every topic of the init's stage (all partitions) on a client of its own. */
export async function openConsumer(init: PulsarInit, consumerId: number, wholeEntries = false): Promise<PulsarConsumer> {
  const client = newClient(init);
  try {
    const consumers = await Promise.all(
      consumerTopics(init).map((topic) =>
        client.subscribe({
          topic,
          subscription: init.subscription,
          subType: init.subscriptionType,
          consumerName: `busbench-${init.runId}-s${init.stage}-c${consumerId}`,
          receiverQueueSize: init.receiverQueueSize,
          // A transactional stage acks in its transactions only, and those are never grouped.
          ackGroupingMs: init.ackGroupingMs,
          // The adapter created the subscription at the start; this only matters if it is gone.
          initialPosition: 'earliest',
        }),
      ),
    );
    return new PulsarConsumer(client, consumers, init.cumulativeAcks, wholeEntries);
  } catch (err) {
    await client.close();
    throw err;
  }
}

/** Consumers of one subscription on one or more topics (the partitions), read in turn. */
export class PulsarConsumer implements Consumer {
  private next = 0;
  private last: WireConsumer | undefined;

  constructor(
    private readonly client: PulsarClient,
    private readonly consumers: WireConsumer[],
    private readonly cumulative: boolean,
    /** never split a batch entry between receives (see ackInTxn) */
    private readonly wholeEntries = false,
  ) {}

  /** The topic the last received batch came from. */
  get lastTopic(): string | undefined {
    return this.last?.topic;
  }

  receive(max: number, maxWaitMs: number): DeliveryBatch | Promise<DeliveryBatch> {
    if (this.consumers.length === 1) {
      const c = this.consumers[0]!;
      this.last = c;
      return c.receiveBatch(max, maxWaitMs, this.wholeEntries);
    }
    const ready = this.takeReady(max);
    if (ready || maxWaitMs <= 0) return ready ?? EMPTY_BATCH;
    return this.waitAny(max, maxWaitMs);
  }

  ack(batch: DeliveryBatch): void {
    if (batch.count === 0 || !this.last) return;
    this.last.ackBatch(batch as ReceivedBatch, this.cumulative);
  }

  /** Acknowledges the last received batch inside a transaction; resolves once the broker has it. */
  async ackInTxn(batch: DeliveryBatch, txn: TxnId): Promise<void> {
    if (batch.count === 0 || !this.last) return;
    await this.last.ackBatchInTxn(batch as ReceivedBatch, txn);
  }

  /** Entries the wire consumers acked away undelivered (bad checksum, undecodable), with why. */
  discarded(): DiscardedEntries {
    const reasons = new Set<string>();
    for (const c of this.consumers) for (const r of c.discardReasons) reasons.add(r);
    return { entries: this.consumers.reduce((n, c) => n + c.stats.discardedEntries, 0), reasons: [...reasons] };
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
        return c.receiveBatch(max, 0, this.wholeEntries) as ReceivedBatch;
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
