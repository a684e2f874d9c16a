/**
 * Consumers: the run's durable pull consumer (several harness consumers share it as a
 * work queue), or a core NATS queue subscription. nats.js pulls in the background
 * (`prefetch` messages at a time) and hands messages to a callback; receive() takes what
 * has arrived. With explicit acks the server stops delivering at max_ack_pending, which
 * bounds what waits here; with ackPolicy none nothing does, beyond the consumer's speed.
 */
import type { NatsConnection, Msg, Subscription } from '@nats-io/nats-core';
import { jetstream, type JsMsg } from '@nats-io/jetstream';
import type { Consumer, DeliveryBatch, RunControl } from '../../core/contract.ts';
import { EMPTY_BATCH } from '../../core/contract.ts';
import { closeConnection } from './connection.ts';
import type { AckConfirmer } from './ack-confirm.ts';
import { partitionOfSubject } from './partitions.ts';

const PULL_EXPIRES_MS = 2_000;

/** Views over each message's own bytes: nats.js already holds them apart, nothing is copied. */
class MsgBatch<M extends { data: Uint8Array; subject: string }> implements DeliveryBatch {
  readonly lane?: (i: number) => number;

  constructor(
    readonly msgs: M[],
    /** with partitions: the length of "<subject>.p", after which the subject names the partition */
    partitionAt?: number,
  ) {
    if (partitionAt !== undefined) this.lane = (i) => partitionOfSubject(this.msgs[i]!.subject, partitionAt);
  }
  get count(): number {
    return this.msgs.length;
  }
  buffer(i: number): Uint8Array {
    return this.msgs[i]!.data;
  }
  offset(): number {
    return 0;
  }
  length(i: number): number {
    return this.msgs[i]!.data.length;
  }
}

/** Filled by a callback, drained by receive(), with a wake-up for one waiter. */
class Arrivals<T> {
  private items: T[] = [];
  private head = 0;
  private waiter: (() => void) | undefined;

  push(item: T): void {
    this.items.push(item);
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** each item not taken yet, left in place */
  forEachWaiting(f: (item: T) => void): void {
    for (let i = this.head; i < this.items.length; i++) f(this.items[i]!);
  }

  /** everything not taken yet, removed */
  takeAll(): T[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return rest;
  }

  async take(max: number, maxWaitMs: number): Promise<T[]> {
    if (this.head >= this.items.length && maxWaitMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, maxWaitMs);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const out = this.items.slice(this.head, this.head + max);
    this.head += out.length;
    // compact now and then instead of shift()ing each message
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return out;
  }
}

abstract class QueuedConsumer<M extends { data: Uint8Array; subject: string }> implements Consumer {
  protected readonly arrivals = new Arrivals<M>();

  constructor(
    protected readonly nc: NatsConnection,
    private readonly partitionAt?: number,
  ) {}

  async receive(max: number, maxWaitMs: number): Promise<DeliveryBatch> {
    const msgs = await this.arrivals.take(max, maxWaitMs);
    return msgs.length === 0 ? EMPTY_BATCH : new MsgBatch(msgs, this.partitionAt);
  }

  abstract ack(batch: DeliveryBatch): void | Promise<void>;

  protected abstract stop(): void;

  async close(): Promise<void> {
    this.stop();
    await closeConnection(this.nc);
  }
}

/**
 * A delivery's ack subject (the reply subject it came with). nats.js's JsMsg has it as
 * `reply` without declaring it in its type; pinned versions keep it there.
 */
function ackSubjectOf(m: JsMsg): string {
  const reply = (m as JsMsg & { reply?: unknown }).reply;
  if (typeof reply !== 'string' || reply === '') throw new Error('nats: a JetStream delivery without an ack subject (has nats.js changed JsMsg?)');
  return reply;
}

export class PullConsumer extends QueuedConsumer<JsMsg> {
  private closing = false;
  private keepAlive: NodeJS.Timeout | undefined;
  /** ack_wait of the run's consumer: a held message must be reported in progress within it */
  ackWaitMs = 10_000;

  constructor(
    nc: NatsConnection,
    private readonly ackPolicy: 'explicit' | 'all' | 'none',
    /** present with doubleAck on: acks are confirmed by the server */
    private readonly confirmer?: AckConfirmer,
    private readonly control?: RunControl,
    partitionAt?: number,
  ) {
    super(nc, partitionAt);
  }

  /** Pulls from one durable; called once per durable the consumer reads (a partition each). */
  async start(stream: string, durable: string, prefetch: number): Promise<void> {
    const c = await jetstream(this.nc).consumers.get(stream, durable);
    // Short pulls: after a broker restart nats.js waits up to 1.5 x expires before it
    // pulls again (30 s by default), which would look like lost messages to the run.
    await c.consume({ max_messages: prefetch, expires: PULL_EXPIRES_MS, callback: (m) => (this.closing ? this.release(m) : this.arrivals.push(m)) });
  }

  /**
   * The harness stops receiving (a backlog build). What was fetched stays here, in order,
   * and the server, at max_ack_pending, stops sending more: the rest of the backlog stays
   * in the stream. So that the held messages are not redelivered after ack_wait (which
   * would be a second delivery and out of order), each is reported in progress (+WPI,
   * which restarts its ack_wait) a few times per ack_wait until resume.
   */
  pause(): void {
    if (this.ackPolicy === 'none' || this.keepAlive) return;
    this.keepAlive = setInterval(() => this.arrivals.forEachWaiting((m) => m.working()), Math.max(100, Math.floor(this.ackWaitMs / 3)));
  }

  resume(): void {
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }

  ack(batch: DeliveryBatch): void | Promise<void> {
    if (this.ackPolicy === 'none' || !(batch instanceof MsgBatch) || batch.count === 0) return;
    const msgs = (batch as MsgBatch<JsMsg>).msgs;
    // Double ack: the server answers each ack once it recorded it, so a consumer knows a
    // crash after this point cannot bring the batch back.
    if (this.confirmer) return this.confirmedAck(this.confirmer, this.ackPolicy === 'all' ? [msgs[msgs.length - 1]!] : msgs);
    // ack_policy all: the batch's last message acks every earlier delivery. Usually it
    // is also the highest stream sequence; when a redelivery came last, the rest waits
    // for the next batch's ack (or comes again after ack_wait): duplicates, never a loss.
    // Reading each message's sequence to find the highest would cost a third of the gain.
    if (this.ackPolicy === 'all') msgs[msgs.length - 1]!.ack();
    else for (const m of msgs) m.ack();
  }

  /**
   * Resolves once the server confirmed every ack; an ack is sent again until then. Only a
   * closing consumer or a stopping run ends the wait early: those acks may or may not
   * have been recorded, so the messages may come again (the consumer's idempotency record
   * absorbs that), and they are counted.
   */
  private async confirmedAck(confirmer: AckConfirmer, msgs: JsMsg[]): Promise<void> {
    const confirmed = await confirmer.confirm(
      msgs.map(ackSubjectOf),
      () => this.closing || (this.control?.stopping() ?? false),
    );
    if (!confirmed) this.unconfirmedBatches++;
  }

  /** batches whose acks were still unconfirmed when the consumer closed or the run stopped */
  unconfirmedBatches = 0;

  /**
   * Prefetched messages nobody received are handed back (nak), so that another consumer
   * gets them now rather than after ack_wait. Those still on the wire arrive while the
   * connection drains (which ends the pull subscription) and are handed back as they come.
   */
  protected stop(): void {
    this.closing = true;
    this.resume();
    this.confirmer?.abandon();
    for (const m of this.arrivals.takeAll()) this.release(m);
  }

  private release(m: JsMsg): void {
    if (this.ackPolicy !== 'none') m.nak();
  }
}

export class CoreSubscriber extends QueuedConsumer<Msg> {
  private sub: Subscription | undefined;

  async start(subject: string): Promise<void> {
    // a queue group: several harness consumers share the messages, as with the durable
    this.sub = this.nc.subscribe(subject, { queue: 'busbench', callback: (err, m) => (err ? undefined : this.arrivals.push(m)) });
    await this.nc.flush();
  }

  ack(): void {}

  protected stop(): void {
    this.sub?.unsubscribe();
  }
}
