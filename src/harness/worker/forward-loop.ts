/**
 * A middle stage of the pipeline (Order -> Match -> Fill -> Ack): consume stage s,
 * publish every message unchanged to stage s+1, acknowledge on stage s. The message
 * keeps its trace id (origin producer and sequence) and its intended send time, so the
 * last stage measures latency and checks delivery end to end.
 *
 * Where the system has transactions (WorkerSide.createForwarder), forwarding and
 * acknowledging commit together. Otherwise the harness publishes with an ordinary
 * producer and acknowledges once every forwarded message was acknowledged downstream:
 * at-least-once, and exactly-once where the next stage drops a re-sent
 * (producer, sequence) by itself.
 */
import { monoNs } from '../../core/clock.ts';
import type { AckSink, Consumer, DeliveryBatch, DiscardedEntries, Forwarder, Producer } from '../../core/contract.ts';
import { readProducer, readSeq } from '../../core/envelope.ts';
import { BusbenchError } from '../../core/errors.ts';
import { COUNTER_DELIVERIES, type Control } from '../control.ts';
import { Discards } from './discards.ts';

/** How a run of forwarded messages ended, counted since the last reset. */
class RunAcks implements AckSink {
  acks = 0;
  problems = 0;
  reason = '';
  acked(_seq: number, count: number): void {
    this.acks += count;
  }
  failed(_seq: number, count: number, reason: string): void {
    this.problems += count;
    this.reason = reason;
  }
  unknown(_seq: number, count: number, reason: string): void {
    this.problems += count;
    this.reason = reason;
  }
  /** the next stage holds it already (a re-forward after a crash): forwarded all the same */
  duplicate(_seq: number, count: number): void {
    this.acks += count;
  }
  reset(): void {
    this.acks = 0;
    this.problems = 0;
  }
}

const ATTEMPTS = 5;
const FLUSH_TIMEOUT_MS = 30_000;

/** The harness's own forwarder: a consumer on stage s, a producer on stage s+1. */
export class ProducingForwarder implements Forwarder {
  private staging = new Uint8Array(0);

  constructor(
    private readonly consumer: Consumer,
    private readonly producer: Producer,
    private readonly acks: RunAcks,
  ) {}

  static async open(makeConsumer: () => Promise<Consumer>, makeProducer: (acks: AckSink) => Promise<Producer>): Promise<ProducingForwarder> {
    const acks = new RunAcks();
    return new ProducingForwarder(await makeConsumer(), await makeProducer(acks), acks);
  }

  receive(max: number, maxWaitMs: number): DeliveryBatch | Promise<DeliveryBatch> {
    return this.consumer.receive(max, maxWaitMs);
  }

  async forward(batch: DeliveryBatch): Promise<void> {
    await this.publish(batch);
    const acked = this.consumer.ack(batch);
    if (acked) await acked;
  }

  crashAfterProducing(batch: DeliveryBatch): Promise<void> {
    return this.publish(batch);
  }

  /** Publishes the batch downstream and waits for its acks, without acknowledging it here. */
  private async publish(batch: DeliveryBatch): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.acks.reset();
      // An OutboundBatch is one producer's consecutive sequences of one size, and a forwarder
      // carries many origin producers: send the batch as such runs, back to back, then wait once.
      let i = 0;
      while (i < batch.count) {
        const producerId = readProducer(batch.buffer(i), batch.offset(i));
        const firstSeq = readSeq(batch.buffer(i), batch.offset(i));
        let j = i + 1;
        // an OutboundBatch has one message size too: a payload of varying sizes cuts runs at each change
        const size = batch.length(i);
        while (j < batch.count && batch.length(j) === size && readProducer(batch.buffer(j), batch.offset(j)) === producerId && readSeq(batch.buffer(j), batch.offset(j)) === firstSeq + (j - i)) j++;
        await this.sendRun(batch, i, j, producerId, firstSeq);
        i = j;
      }
      await this.producer.flush(FLUSH_TIMEOUT_MS);
      // Re-sending after a lost ack is safe only because the next stage drops what it
      // already holds; without deduplication this is where duplicates come from.
      if (this.acks.problems === 0 && this.acks.acks >= batch.count) return;
      if (attempt >= ATTEMPTS) throw new BusbenchError('ADAPTER', `forwarding ${batch.count} messages failed ${ATTEMPTS} times: ${this.acks.reason || 'no ack'}`);
    }
  }

  private async sendRun(batch: DeliveryBatch, from: number, to: number, producerId: number, firstSeq: number): Promise<void> {
    const size = batch.length(from);
    const count = to - from;
    if (this.staging.length < size * count) this.staging = new Uint8Array(size * count);
    for (let k = from; k < to; k++) {
      const off = batch.offset(k);
      this.staging.set(batch.buffer(k).subarray(off, off + size), (k - from) * size);
    }
    // the staging buffer is free again once send returns or resolves
    const sent = this.producer.send({ bytes: this.staging.subarray(0, size * count), size, count, producerId, firstSeq });
    if (sent) await sent;
  }

  discarded(): DiscardedEntries | undefined {
    return this.consumer.discarded?.();
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.consumer.close(), this.producer.close()]);
  }
}

export interface ForwardOutcome {
  forwarded: number;
  crashes: number;
  aborted: number;
  discarded?: DiscardedEntries;
}

/** Runs one middle stage until the run stops; crashes (drops its connections) on schedule. */
export async function runForwarder(slot: number, control: Control, open: () => Promise<Forwarder>, crashEveryMs: number, maxBatch: number): Promise<ForwardOutcome> {
  let forwarder = await open();
  let forwarded = 0;
  let crashes = 0;
  let aborted = 0;
  let nextCrashNs = 0;
  const discards = new Discards();
  const reopen = async (): Promise<Forwarder> => {
    await forwarder.close();
    discards.add(forwarder);
    return open();
  };
  while (control.timeline().startNs === 0 && !control.stopping()) control.waitWhile(0, 5);
  if (crashEveryMs > 0) nextCrashNs = control.timeline().startNs + crashEveryMs * 1e6;
  while (!control.stopping()) {
    let batch = forwarder.receive(maxBatch, 50);
    if (batch instanceof Promise) batch = await batch;
    if (batch.count === 0) continue;
    if (nextCrashNs > 0 && monoNs() >= nextCrashNs) {
      // Crash between processing and acknowledging: published downstream (in a
      // transaction: produced and never committed), nothing acknowledged here.
      nextCrashNs += crashEveryMs * 1e6;
      await forwarder.crashAfterProducing(batch).catch(() => undefined);
      crashes++;
      forwarder = await reopen();
      continue;
    }
    try {
      await forwarder.forward(batch);
      forwarded += batch.count;
    } catch (err) {
      // An aborted transaction or a failed forward leaves the batch to be delivered again.
      if (control.stopping()) break;
      aborted++;
      if (aborted > 1000) throw err;
      forwarder = await reopen();
    }
    control.setCounter(slot, COUNTER_DELIVERIES, forwarded);
  }
  await forwarder.close();
  discards.add(forwarder);
  const discarded = discards.result();
  return { forwarded, crashes, aborted, ...(discarded ? { discarded } : {}) };
}
