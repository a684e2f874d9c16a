/**
 * A pipeline stage in Pulsar transactions: consume stage s, produce to stage s+1 and
 * acknowledge on stage s in one transaction, so a stage that crashes before the commit
 * leaves neither its output (never made visible) nor its acknowledgement (never applied),
 * and the input is delivered again. This is Pulsar's own consume-process-produce
 * exactly-once, without relying on deduplication at the next stage.
 *
 * Each forward(): NEW_TXN, register the next stage's topic and this stage's
 * subscription, send every message in the transaction and wait for the receipts,
 * acknowledge in the transaction and wait for the broker's answer, END_TXN COMMIT.
 * Any failure aborts the transaction (best effort: an unreachable coordinator aborts it
 * by itself at the timeout) and rejects, and the harness reopens the stage.
 *
 * The producer takes a fresh name each time the stage opens and numbers its messages
 * itself: the origin's (producer, sequence) travels inside the message, and broker
 * deduplication on the next topic, keyed on producer name and sequence, must not mistake
 * a re-forward after an abort for a duplicate of what that abort threw away.
 */
import { randomBytes } from 'node:crypto';
import type { ConsumerSpec, DeliveryBatch, DiscardedEntries, Forwarder } from '../../core/contract.ts';
import { ConfigError } from '../../core/errors.ts';
import { newClient, openConsumer, type PulsarConsumer } from './consumer.ts';
import { atStage, producerTopic, type PulsarInit } from './init.ts';
import { PulsarWireError, TransactionCoordinator, type Producer as WireProducer, type PulsarClient, type TxnId } from './wire/index.ts';

/** Messages a forward may have in flight: a whole-entry batch can exceed the batch size. */
const MAX_PENDING = 20_000;

/**
 * What became of the current transaction's sends: those from sequence id `from` on. An
 * aborted transaction's entries may still be pending when the next one starts, and their
 * late receipts, errors or timeouts say nothing about it.
 */
class SendOutcome {
  stored = 0;
  error: Error | null = null;
  private from = 0;
  begin(firstSeq: number): void {
    this.from = firstSeq;
    this.stored = 0;
    this.error = null;
  }
  settled(firstSeq: number, count: number, err: Error | null): void {
    if (firstSeq < this.from) return;
    if (err) this.error ??= err;
    else this.stored += count;
  }
}

export class TransactionalForwarder implements Forwarder {
  private constructor(
    private readonly client: PulsarClient,
    private readonly coordinator: TransactionCoordinator,
    private readonly consumer: PulsarConsumer,
    private readonly producer: WireProducer,
    private readonly outcome: SendOutcome,
    private readonly subscription: string,
    private readonly timeoutMs: number,
  ) {}

  static async open(init: PulsarInit, spec: ConsumerSpec): Promise<TransactionalForwarder> {
    if (!init.transactions) throw new ConfigError('pulsar options', 'pulsar.transactions', '"on" for a transactional pipeline stage', 'off');
    const stage = spec.stage ?? 0;
    const here = atStage(init, stage);
    const next = atStage(init, stage + 1);
    const consumer = await openConsumer(here, spec.consumerId, true);
    const client = newClient(init);
    try {
      const coordinator = new TransactionCoordinator(client, 0);
      const outcome = new SendOutcome();
      const producer = await client.createProducer({
        topic: producerTopic(next, spec.consumerId),
        producerName: `busbench-${init.runId}-s${next.stage}-txn-${randomBytes(4).toString('hex')}`,
        txnEnabled: true,
        batching: init.batching,
        batchMaxMessages: init.batchMaxMessages,
        batchMaxDelayMs: init.batchMaxDelayMs,
        batchMaxBytes: init.batchMaxBytes,
        compression: init.compression,
        maxPendingMessages: MAX_PENDING,
        // Past the transaction's timeout the coordinator has aborted it anyway.
        sendTimeoutMs: init.txnTimeoutMs,
        onEntry: (seq, count, err) => outcome.settled(seq, count, err),
      });
      return new TransactionalForwarder(client, coordinator, consumer, producer, outcome, here.subscription, init.txnTimeoutMs);
    } catch (err) {
      await Promise.allSettled([consumer.close(), client.close()]);
      throw err;
    }
  }

  receive(max: number, maxWaitMs: number): DeliveryBatch | Promise<DeliveryBatch> {
    return this.consumer.receive(max, maxWaitMs);
  }

  async forward(batch: DeliveryBatch): Promise<void> {
    if (batch.count === 0) return;
    const tc = this.coordinator;
    let txn: TxnId | undefined;
    try {
      txn = await this.produce(batch);
      await this.consumer.ackInTxn(batch, txn);
      await tc.commit(txn);
    } catch (err) {
      if (txn) await tc.abort(txn).catch(() => undefined);
      throw err;
    }
  }

  async crashAfterProducing(batch: DeliveryBatch): Promise<void> {
    if (batch.count > 0) await this.produce(batch);
  }

  /** Opens a transaction, registers both ends and sends the batch in it; commits nothing. */
  private async produce(batch: DeliveryBatch): Promise<TxnId> {
    const topic = this.consumer.lastTopic;
    if (!topic) throw new PulsarWireError('invalid', 'pulsar forwarder: forward() before receive()');
    const tc = this.coordinator;
    const txn = await tc.newTxn(this.timeoutMs);
    try {
      await tc.addPartitions(txn, [this.producer.topic]);
      await tc.addSubscriptions(txn, [{ topic, subscription: this.subscription }]);
      await this.send(batch, txn);
      return txn;
    } catch (err) {
      await tc.abort(txn).catch(() => undefined);
      throw err;
    }
  }

  /** Sends every message of the batch in the transaction and waits until all are stored. */
  private async send(batch: DeliveryBatch, txn: TxnId): Promise<void> {
    const p = this.producer;
    const outcome = this.outcome;
    // The forwarder numbers its messages itself, in order: this transaction's come from here on.
    outcome.begin(p.nextSequenceId);
    for (let i = 0; i < batch.count; i++) {
      if (p.room < 1) await p.waitForRoom();
      const off = batch.offset(i);
      const len = batch.length(i);
      // copied by the producer: the batch's views are reused after this returns
      p.sendMessages(batch.buffer(i).subarray(off, off + len), len, 1, p.nextSequenceId, txn);
    }
    const done = await p.flush(this.timeoutMs);
    if (outcome.error) throw outcome.error;
    if (!done || outcome.stored < batch.count) throw new PulsarWireError('timeout', `pulsar forwarder: ${batch.count - outcome.stored} of ${batch.count} messages not stored within ${this.timeoutMs} ms`);
  }

  /** Drops the connections; an open transaction is left for the coordinator to time out. */
  discarded(): DiscardedEntries {
    return this.consumer.discarded();
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.consumer.close(), this.client.close()]);
  }
}
