/**
 * JetStream publishing, two ways.
 *
 * fast (default): core publishes, each with its own reply subject under one wildcard
 * inbox that a single subscription serves. No promise per message; the ack's stream
 * sequence is read straight from the bytes of the reply. Reference figures on this
 * machine class: ~120-134 k msg/s this way against 30-37 k for awaited js.publish().
 *
 * js: js.publish() promises, for comparison.
 *
 * Every sequence ends in exactly one of acked / failed / unknown. A publish without an
 * ack within ackTimeout is *unknown*: the stream may well have stored it. After a
 * disconnect, nats.js resends what it buffered and acks may never come: those end as
 * unknown too. 429 (ingest queue full) is back-pressure: the message is sent again.
 */
import type { NatsConnection, Msg, MsgHdrs } from '@nats-io/nats-core';
import { createInbox, headers } from '@nats-io/nats-core';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { AckSink, OutboundBatch, Producer } from '../../core/contract.ts';
import type { NatsOptions } from './options.ts';

interface Pending {
  payload: Uint8Array;
  deadline: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Parses `"seq":N` out of a JetStream PubAck without JSON.parse (the hot path). */
export function streamSeqOf(data: Uint8Array): number {
  for (let i = 0; i + 6 < data.length; i++) {
    // "seq":
    if (data[i] === 0x22 && data[i + 1] === 0x73 && data[i + 2] === 0x65 && data[i + 3] === 0x71 && data[i + 4] === 0x22 && data[i + 5] === 0x3a) {
      let v = 0;
      for (let j = i + 6; j < data.length; j++) {
        const c = data[j]!;
        if (c < 0x30 || c > 0x39) break;
        v = v * 10 + (c - 0x30);
      }
      return v;
    }
  }
  return -1;
}

function errorOf(data: Uint8Array): { code: number; description: string } | undefined {
  // A PubAck starts {"stream": ; anything else is decoded properly.
  if (data.length > 10 && data[2] === 0x73 && data[3] === 0x74) return undefined;
  try {
    const doc = JSON.parse(new TextDecoder().decode(data)) as { error?: { code?: number; description?: string } };
    if (doc.error) return { code: doc.error.code ?? 0, description: doc.error.description ?? 'error' };
    return undefined;
  } catch {
    return { code: 0, description: `unreadable ack: ${new TextDecoder().decode(data).slice(0, 80)}` };
  }
}

abstract class WindowedProducer implements Producer {
  protected readonly pending = new Map<number, Pending>();
  private spaceWaiter: (() => void) | undefined;
  private sweeper: NodeJS.Timeout;
  /** last stream sequence seen in an ack */
  lastStreamSeq = 0;

  constructor(
    protected readonly nc: NatsConnection,
    protected readonly subject: string,
    protected readonly opts: NatsOptions,
    protected readonly acks: AckSink,
    private readonly maxInFlight: number,
    protected readonly producerId: number,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(500, opts.ackTimeoutMs / 2));
  }

  protected msgHeaders(seq: number): MsgHdrs | undefined {
    if (!this.opts.msgId) return undefined;
    const h = headers();
    h.set('Nats-Msg-Id', `${this.producerId}-${seq}`);
    return h;
  }

  protected settle(seq: number): boolean {
    const had = this.pending.delete(seq);
    if (had && this.spaceWaiter && this.pending.size < this.maxInFlight) {
      const w = this.spaceWaiter;
      this.spaceWaiter = undefined;
      w();
    }
    return had;
  }

  private sweep(): void {
    const now = Date.now();
    // Map order is send order, so the first live entry is the oldest.
    for (const [seq, p] of this.pending) {
      if (p.deadline > now) break;
      this.settle(seq);
      this.acks.unknown(seq, 1, `no ack within ${this.opts.ackTimeoutMs} ms`);
    }
  }

  protected abstract publishOne(seq: number, payload: Uint8Array): void;

  async send(batch: OutboundBatch): Promise<void> {
    const deadlineBase = Date.now() + this.opts.ackTimeoutMs;
    for (let i = 0; i < batch.count; i++) {
      if (this.pending.size >= this.maxInFlight) await new Promise<void>((r) => (this.spaceWaiter = r));
      const seq = batch.firstSeq + i;
      // kept (copied) so that a 429 can be answered by sending it again
      const payload = batch.bytes.slice(i * batch.size, (i + 1) * batch.size);
      this.pending.set(seq, { payload, deadline: deadlineBase });
      this.publishOne(seq, payload);
    }
  }

  async flush(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0 && Date.now() < deadline) await sleep(20);
    for (const seq of [...this.pending.keys()]) {
      this.settle(seq);
      this.acks.unknown(seq, 1, 'no ack before the drain ended');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.nc.drain().catch(() => undefined);
  }
}

export class FastPublisher extends WindowedProducer {
  private readonly inbox = createInbox();

  static async create(nc: NatsConnection, subject: string, opts: NatsOptions, acks: AckSink, maxInFlight: number, producerId: number): Promise<FastPublisher> {
    const p = new FastPublisher(nc, subject, opts, acks, maxInFlight, producerId);
    p.nc.subscribe(`${p.inbox}.*`, { callback: (err, msg) => (err ? undefined : p.onAck(msg)) });
    await nc.flush();
    return p;
  }

  protected publishOne(seq: number, payload: Uint8Array): void {
    const h = this.msgHeaders(seq);
    this.nc.publish(this.subject, payload, h ? { reply: `${this.inbox}.${seq}`, headers: h } : { reply: `${this.inbox}.${seq}` });
  }

  private onAck(msg: Msg): void {
    const seq = Number(msg.subject.slice(this.inbox.length + 1));
    const p = this.pending.get(seq);
    if (!p) return; // already settled (timed out): a late ack changes nothing
    const status = msg.headers?.code ?? 0;
    if (status === 503) {
      this.settle(seq);
      this.acks.failed(seq, 1, 'no responders: no stream took the message');
      return;
    }
    const err = status === 0 ? errorOf(msg.data) : { code: status, description: msg.headers?.description ?? 'status' };
    if (err?.code === 429) {
      // ingest queue full: back off, then send the same bytes again
      setTimeout(() => {
        if (this.pending.has(seq)) this.publishOne(seq, p.payload);
      }, 5);
      return;
    }
    this.settle(seq);
    if (err) {
      this.acks.failed(seq, 1, `jetstream error ${err.code}: ${err.description}`);
      return;
    }
    const streamSeq = streamSeqOf(msg.data);
    if (streamSeq > this.lastStreamSeq) this.lastStreamSeq = streamSeq;
    this.acks.acked(seq, 1);
  }
}

export class JsPublisher extends WindowedProducer {
  private readonly js: JetStreamClient;

  constructor(nc: NatsConnection, subject: string, opts: NatsOptions, acks: AckSink, maxInFlight: number, producerId: number) {
    super(nc, subject, opts, acks, maxInFlight, producerId);
    this.js = jetstream(nc);
  }

  protected publishOne(seq: number, payload: Uint8Array): void {
    const publishing = this.opts.msgId
      ? this.js.publish(this.subject, payload, { msgID: `${this.producerId}-${seq}`, timeout: this.opts.ackTimeoutMs })
      : this.js.publish(this.subject, payload, { timeout: this.opts.ackTimeoutMs });
    publishing.then(
      (ack) => {
        if (!this.settle(seq)) return;
        if (ack.seq > this.lastStreamSeq) this.lastStreamSeq = ack.seq;
        this.acks.acked(seq, 1);
      },
      (err: Error) => {
        if (!this.settle(seq)) return;
        if (/timeout/i.test(err.message)) this.acks.unknown(seq, 1, err.message);
        else this.acks.failed(seq, 1, err.message);
      },
    );
  }
}

/** Core NATS: no acks exist, so "acked" means handed to the client's socket buffer. */
export class CorePublisher implements Producer {
  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    private readonly acks: AckSink,
  ) {}

  async send(batch: OutboundBatch): Promise<void> {
    for (let i = 0; i < batch.count; i++) this.nc.publish(this.subject, batch.bytes.subarray(i * batch.size, (i + 1) * batch.size));
    this.acks.acked(batch.firstSeq, batch.count);
    // let the socket drain now and then so the client's buffer stays bounded
    if ((batch.firstSeq & 1023) < batch.count) await this.nc.flush();
  }

  async flush(): Promise<void> {
    await this.nc.flush();
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => undefined);
  }
}
