/**
 * Consumers: a durable pull consumer with explicit acks (several harness consumers
 * share it as a work queue), or a core NATS queue subscription. nats.js pulls in the
 * background; receive() hands out what has arrived.
 */
import type { NatsConnection, Msg, Subscription } from '@nats-io/nats-core';
import { jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { Consumer, DeliveryBatch } from '../../core/contract.ts';
import { EMPTY_BATCH } from '../../core/contract.ts';

class MsgBatch implements DeliveryBatch {
  constructor(readonly msgs: Array<JsMsg | Msg>) {}
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

/** A queue filled by a callback and drained by receive(), with a wake-up for waiters. */
class Inbox<T> {
  private items: T[] = [];
  private head = 0;
  private waiter: (() => void) | undefined;

  push(item: T): void {
    this.items.push(item);
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  async take(max: number, maxWaitMs: number): Promise<T[]> {
    if (this.head >= this.items.length) {
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
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return out;
  }
}

export class PullConsumer implements Consumer {
  private readonly inbox = new Inbox<JsMsg>();
  private messages: ConsumerMessages | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly explicitAck: boolean,
  ) {}

  async start(stream: string, durable: string, prefetch: number): Promise<void> {
    const c = await jetstream(this.nc).consumers.get(stream, durable);
    this.messages = await c.consume({ max_messages: prefetch, callback: (m) => this.inbox.push(m) });
  }

  async receive(max: number, maxWaitMs: number): Promise<DeliveryBatch> {
    const msgs = await this.inbox.take(max, maxWaitMs);
    return msgs.length === 0 ? EMPTY_BATCH : new MsgBatch(msgs);
  }

  ack(batch: DeliveryBatch): void {
    if (!this.explicitAck || !(batch instanceof MsgBatch)) return;
    for (const m of batch.msgs) (m as JsMsg).ack();
  }

  async close(): Promise<void> {
    this.messages?.stop();
    await this.nc.drain().catch(() => undefined);
  }
}

export class CoreSubscriber implements Consumer {
  private readonly inbox = new Inbox<Msg>();
  private sub: Subscription | undefined;

  constructor(private readonly nc: NatsConnection) {}

  async start(subject: string): Promise<void> {
    this.sub = this.nc.subscribe(subject, { queue: 'busbench', callback: (err, m) => (err ? undefined : this.inbox.push(m)) });
    await this.nc.flush();
  }

  async receive(max: number, maxWaitMs: number): Promise<DeliveryBatch> {
    const msgs = await this.inbox.take(max, maxWaitMs);
    return msgs.length === 0 ? EMPTY_BATCH : new MsgBatch(msgs);
  }

  ack(): void {}

  async close(): Promise<void> {
    this.sub?.unsubscribe();
    await this.nc.drain().catch(() => undefined);
  }
}
