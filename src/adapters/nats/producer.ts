/**
 * JetStream publishing, two ways, with one accounting.
 *
 * fast (default): core publishes, each with its own reply subject under one wildcard
 * inbox that a single subscription serves. No promise and no timer per message; the ack's
 * stream sequence is read straight from the reply's bytes.
 * js: js.publish() promises, for comparison.
 *
 * Every publish ends in exactly one of acked / failed / unknown (a sequence sent twice,
 * as a retry, gets an answer per send; the harness counts its deliberate re-sends):
 *   - an ack: acked (a "duplicate" ack too: the stream held that message id already and
 *     dropped this copy; counted in `duplicates`);
 *   - an error reply: failed, except 429 (the stream's ingest queue is full), which is
 *     back-pressure: the same bytes are sent again after a short pause;
 *   - no ack within ackTimeout (one sweep timer for all): unknown, the stream may well
 *     have stored it;
 *   - the connection drops: whatever awaits an ack is unknown at once (its ack died with
 *     the connection; it is not sent again, so no duplicate is made), and send() waits
 *     until the client has reconnected. nats.js discards what was buffered while
 *     disconnected, so publishing into a dead connection would only lose messages;
 *   - the run stops while the broker is unreachable: the unsent rest of the batch is
 *     failed (never published, so never delivered).
 * The in-flight window is ours: send() waits while maxInFlight messages await their ack.
 */
import type { NatsConnection, Msg, MsgHdrs } from '@nats-io/nats-core';
import { createInbox, headers } from '@nats-io/nats-core';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { AckSink, OutboundBatch, Producer, RunControl } from '../../core/contract.ts';
import type { NatsOptions } from './options.ts';
import { closeConnection } from './connection.ts';
import { SubjectRouter, type NatsRouting } from './partitions.ts';

/**
 * One publish awaiting its ack, keyed by a token of its own rather than by sequence: a
 * pipeline stage forwards many producers' messages (the same sequence from two origins),
 * and a retry can put a (producer, sequence) on the wire while its first send still
 * awaits an ack. Each publish then gets its own answer.
 */
interface Pending {
  seq: number;
  /** the producer whose message this is: the Nats-Msg-Id names it */
  origin: number;
  /** the run's subject, or with partitions and keys the message's own (partitions.ts) */
  subject: string;
  payload: Uint8Array;
  deadline: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const BACKOFF_429_MS = 5;

/** `"seq":N` of a JetStream PubAck, read without JSON.parse (the hot path); -1 if absent. */
export function streamSeqOf(data: Uint8Array): number {
  for (let i = 0; i + 6 < data.length; i++) {
    // "seq":
    if (data[i] === 0x22 && data[i + 1] === 0x73 && data[i + 2] === 0x65 && data[i + 3] === 0x71 && data[i + 4] === 0x22 && data[i + 5] === 0x3a) {
      let v = 0;
      let j = i + 6;
      while (data[j] === 0x20) j++;
      for (; j < data.length; j++) {
        const c = data[j]!;
        if (c < 0x30 || c > 0x39) break;
        v = v * 10 + (c - 0x30);
      }
      return v;
    }
  }
  return -1;
}

const TRUE_BRACE = [0x74, 0x72, 0x75, 0x65, 0x7d]; // true}

/**
 * Whether a PubAck says "duplicate":true (the stream already held this Nats-Msg-Id).
 * The server writes that field last and no other PubAck field ends in `true`, so the
 * tail tells, without JSON.parse on the hot path.
 */
export function isDuplicateAck(data: Uint8Array): boolean {
  let end = data.length;
  while (end > 0 && (data[end - 1] === 0x20 || data[end - 1] === 0x0a)) end--;
  if (end < TRUE_BRACE.length) return false;
  for (let k = 0; k < TRUE_BRACE.length; k++) if (data[end - TRUE_BRACE.length + k] !== TRUE_BRACE[k]) return false;
  return true;
}

export interface AckError {
  code: number;
  description: string;
}

/**
 * The error of a publish reply, or undefined for a PubAck. The server writes the error
 * first ({"error":{...},"stream":...}) and a PubAck starts {"stream":, so one byte tells
 * them apart; a status header (503 no responders, 429 too many requests) wins.
 */
export function ackErrorOf(msg: Pick<Msg, 'data' | 'headers'>): AckError | undefined {
  const status = msg.headers?.code ?? 0;
  if (status >= 300) return { code: status, description: msg.headers?.description || 'status' };
  const data = msg.data;
  if (data.length > 10 && data[0] === 0x7b && data[1] === 0x22 && data[2] === 0x73) return undefined;
  const text = new TextDecoder().decode(data);
  try {
    const doc = JSON.parse(text) as { error?: { code?: number; err_code?: number; description?: string }; seq?: number };
    if (doc.error) return { code: doc.error.code ?? 0, description: `${doc.error.description ?? 'error'}${doc.error.err_code ? ` (err_code ${doc.error.err_code})` : ''}` };
    if (typeof doc.seq === 'number') return undefined;
  } catch {
    /* below */
  }
  return { code: 0, description: `unreadable ack: ${text.slice(0, 80)}` };
}

abstract class WindowedProducer implements Producer {
  protected readonly pending = new Map<number, Pending>();
  private nextToken = 0;
  private spaceWaiter: (() => void) | undefined;
  /** flush() calls waiting for the window to empty */
  private emptyWaiters: (() => void)[] = [];
  private readonly sweeper: NodeJS.Timeout;
  private connected = true;
  private reconnected: (() => void) | undefined;
  /** highest stream sequence seen in an ack */
  lastStreamSeq = 0;
  /** 429 replies answered by sending again */
  backpressureRetries = 0;
  /** acks saying the stream dropped the message as a duplicate of a message id it held */
  duplicates = 0;

  constructor(
    protected readonly nc: NatsConnection,
    protected readonly subject: string,
    protected readonly opts: NatsOptions,
    protected readonly acks: AckSink,
    private readonly maxInFlight: number,
    private readonly control: RunControl,
    private readonly routing?: NatsRouting,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(500, opts.ackTimeoutMs / 2));
    void this.watchConnection();
  }

  private async watchConnection(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') {
        this.connected = false;
        this.settleAll('connection lost before the ack');
      } else if (s.type === 'reconnect') {
        this.connected = true;
        this.reconnected?.();
        this.reconnected = undefined;
      }
    }
  }

  /** per origin producer, the subject of each of its messages (with partitions or keys) */
  private readonly routers = new Map<number, SubjectRouter>();

  private subjectOf(origin: number, seq: number): string {
    if (!this.routing) return this.subject;
    let r = this.routers.get(origin);
    if (!r) this.routers.set(origin, (r = new SubjectRouter(this.subject, this.routing, origin)));
    return r.of(seq);
  }

  /** The id names the message's origin (a pipeline stage forwards other producers' messages). */
  protected msgHeaders(originProducer: number, seq: number): MsgHdrs | undefined {
    if (!this.opts.msgId) return undefined;
    const h = headers();
    h.set('Nats-Msg-Id', `${originProducer}-${seq}`);
    return h;
  }

  /** Removes the publish from the window; undefined if it had been settled already. */
  protected settle(token: number): Pending | undefined {
    const p = this.pending.get(token);
    if (!p) return undefined;
    this.pending.delete(token);
    // The waiter resumes in a microtask, after every ack of the current socket read has
    // been handled: the window refills in bursts, one socket write for many publishes.
    if (this.spaceWaiter && this.pending.size < this.maxInFlight) {
      const w = this.spaceWaiter;
      this.spaceWaiter = undefined;
      w();
    }
    if (this.pending.size === 0 && this.emptyWaiters.length > 0) for (const w of this.emptyWaiters.splice(0)) w();
    return p;
  }

  /** A PubAck with `duplicate: true`: the stream holds a message of that Nats-Msg-Id already, stored nothing now. */
  protected acked(token: number, streamSeq: number, duplicate: boolean): void {
    const p = this.settle(token);
    if (!p) return; // settled already (timed out): a late ack changes nothing
    if (streamSeq > this.lastStreamSeq) this.lastStreamSeq = streamSeq;
    if (duplicate) {
      this.duplicates++;
      this.acks.duplicate(p.seq, 1);
    } else this.acks.acked(p.seq, 1);
  }

  protected rejected(token: number, err: AckError): void {
    if (err.code === 429) {
      const p = this.pending.get(token);
      if (!p) return;
      this.backpressureRetries++;
      setTimeout(() => {
        if (this.pending.has(token) && this.connected) this.publishOne(token, p);
      }, BACKOFF_429_MS);
      return;
    }
    const p = this.settle(token);
    if (!p) return;
    if (err.code === 503 && err.description.includes('no responders')) this.acks.failed(p.seq, 1, 'no responders: no stream listens on the subject');
    else this.acks.failed(p.seq, 1, `jetstream error ${err.code}: ${err.description}`);
  }

  protected noAnswer(token: number, reason: string): void {
    const p = this.settle(token);
    if (p) this.acks.unknown(p.seq, 1, reason);
  }

  private settleAll(reason: string): void {
    for (const token of [...this.pending.keys()]) this.noAnswer(token, reason);
  }

  private sweep(): void {
    const now = Date.now();
    // Map order is send order and deadlines grow with it: stop at the first live one.
    for (const [token, p] of this.pending) {
      if (p.deadline > now) break;
      this.noAnswer(token, `no ack within ${this.opts.ackTimeoutMs} ms`);
    }
  }

  protected abstract publishOne(token: number, p: Pending): void;

  /** Resolves true once connected, false if the run stops first. */
  private async awaitConnection(): Promise<boolean> {
    while (!this.connected) {
      if (this.control.stopping() || this.nc.isClosed()) return false;
      await Promise.race([new Promise<void>((r) => (this.reconnected = r)), sleep(50)]);
    }
    return true;
  }

  async send(batch: OutboundBatch): Promise<void> {
    // one copy per batch (the harness reuses its buffer); kept to answer a 429
    const copy = batch.bytes.slice(0, batch.count * batch.size);
    let deadline = Date.now() + this.opts.ackTimeoutMs;
    for (let i = 0; i < batch.count; i++) {
      const seq = batch.firstSeq + i;
      // A disconnect frees the window: look at both again after every wait. A full window
      // ignores control.stopping(): acks or the sweep free it within ackTimeout.
      while (!this.connected || this.pending.size >= this.maxInFlight) {
        if (this.connected) await new Promise<void>((r) => (this.spaceWaiter = r));
        else if (!(await this.awaitConnection())) {
          this.acks.failed(seq, batch.count - i, 'not sent: the broker was unreachable when the run stopped');
          return;
        }
        deadline = Date.now() + this.opts.ackTimeoutMs;
      }
      const p: Pending = { seq, origin: batch.producerId, subject: this.subjectOf(batch.producerId, seq), payload: copy.subarray(i * batch.size, (i + 1) * batch.size), deadline };
      const token = this.nextToken++;
      this.pending.set(token, p);
      this.publishOne(token, p);
    }
  }

  async flush(timeoutMs: number): Promise<void> {
    if (this.pending.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((r) => this.emptyWaiters.push(r)), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    }
    this.settleAll('no ack before the drain ended');
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.settleAll('producer closed before the ack');
    await closeConnection(this.nc);
  }
}

export class FastPublisher extends WindowedProducer {
  private readonly inbox = createInbox();

  static async create(nc: NatsConnection, subject: string, opts: NatsOptions, acks: AckSink, maxInFlight: number, control: RunControl, routing?: NatsRouting): Promise<FastPublisher> {
    const p = new FastPublisher(nc, subject, opts, acks, maxInFlight, control, routing);
    nc.subscribe(`${p.inbox}.*`, { callback: (err, msg) => (err ? undefined : p.onReply(msg)) });
    await nc.flush();
    return p;
  }

  protected publishOne(token: number, p: Pending): void {
    const reply = `${this.inbox}.${token}`;
    const h = this.msgHeaders(p.origin, p.seq);
    this.nc.publish(p.subject, p.payload, h ? { reply, headers: h } : { reply });
  }

  private onReply(msg: Msg): void {
    const token = Number(msg.subject.slice(this.inbox.length + 1));
    if (!this.pending.has(token)) return;
    const err = ackErrorOf(msg);
    if (err) this.rejected(token, err);
    // only a message id can make a duplicate: without one, skip the look at the tail
    else this.acked(token, streamSeqOf(msg.data), this.opts.msgId && isDuplicateAck(msg.data));
  }
}

export class JsPublisher extends WindowedProducer {
  private readonly js: JetStreamClient;

  constructor(nc: NatsConnection, subject: string, opts: NatsOptions, acks: AckSink, maxInFlight: number, control: RunControl, routing?: NatsRouting) {
    super(nc, subject, opts, acks, maxInFlight, control, routing);
    this.js = jetstream(nc);
  }

  protected publishOne(token: number, p: Pending): void {
    const options = this.opts.msgId ? { msgID: `${p.origin}-${p.seq}`, timeout: this.opts.ackTimeoutMs } : { timeout: this.opts.ackTimeoutMs };
    this.js.publish(p.subject, p.payload, options).then(
      (ack) => this.acked(token, ack.seq, ack.duplicate),
      (err: Error & { code?: number | string; status?: number }) => {
        // JetStreamApiError: status is the HTTP-like code (429, 503), code the err_code
        const code = typeof err.status === 'number' ? err.status : typeof err.code === 'number' ? err.code : 0;
        if (/timeout|disconnect|closed/i.test(err.message)) this.noAnswer(token, err.message);
        else this.rejected(token, { code, description: err.message });
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
    // a round trip now and then keeps the client's outbound buffer (and our lead) bounded
    if (batch.firstSeq % 1024 < batch.count) await this.nc.flush();
  }

  async flush(): Promise<void> {
    await this.nc.flush();
  }

  async close(): Promise<void> {
    await closeConnection(this.nc);
  }
}
