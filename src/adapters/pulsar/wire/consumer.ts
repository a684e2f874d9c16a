/**
 * A consumer: subscribes, keeps the broker's flow permits topped up, splits batch
 * entries into messages, hands them out in batches of views, acknowledges, and
 * resubscribes after connection loss.
 *
 * Flow control: permits count messages. The consumer grants `receiverQueueSize` on
 * subscribe and, as the application takes messages, grants them back once half the queue
 * has been taken (what the Java client does), so at most about one queue of messages
 * waits here.
 *
 * Acknowledgement is per entry: a batch entry is acknowledged (individually) once every
 * message of it has been acknowledged by the application, so no batch-index ack sets
 * are needed; cumulative acks name the last entry whose messages are all done.
 * Acknowledgements made while disconnected are kept and sent on resubscription, before
 * new permits, so the broker does not redeliver what was already handled. With
 * `ackGroupingMs` they are gathered and sent together (as the Java client's
 * acknowledgmentGroupTime), and the group goes out before anything that would make the
 * broker deliver them again: a redelivery request, close, unsubscribe.
 *
 * Compressed entries are decompressed by the codec their metadata names (./compression.ts);
 * one that does not decompress is discarded with DecompressionError, as ConsumerImpl does.
 */
import { splitBatch } from './batch.ts';
import { decompressPayload, prepareCodecs } from './compression.ts';
import type { Connection, ConsumerHandler } from './connection.ts';
import { Deque } from './deque.ts';
import { connectionError, invalidError, PulsarWireError } from './errors.ts';
import { encodeAckCommand, PbReader, readMetadata, ReceivedMetadata, SingleMetadata, type AckId, type MessageCommand, type TxnId } from './fastcodec.ts';
import { encodeSimpleFrame, type ParsedFrame } from './framing.ts';
import { messageId, type MessageId } from './message-id.ts';
import { attach, Reconnector } from './reconnect.ts';
import { txnName } from './transactions.ts';
import type { ClientCore } from './producer.ts';
import { AckValidationError, Cmd, InitialPosition, SubType, u64, type MessageIdOut, type SubTypeName } from './proto.ts';

export interface ConsumerOptions {
  topic: string;
  subscription: string;
  /** default Exclusive */
  subType?: SubTypeName;
  consumerName?: string;
  /** messages prefetched from the broker; default 1000 */
  receiverQueueSize?: number;
  /** where a new subscription starts; default latest */
  initialPosition?: 'latest' | 'earliest';
  /** false: the subscription's position is not persisted (a reader); default true */
  durable?: boolean;
  /** check each entry's CRC32C; default true */
  verifyChecksums?: boolean;
  priorityLevel?: number;
  /**
   * Acknowledgements (outside transactions) are gathered for up to this long and sent in
   * one ACK command, as the Java client's acknowledgmentGroupTime; 0 (the default here)
   * sends each at once.
   */
  ackGroupingMs?: number;
  /** a group is sent at once when it holds this many ids (Java's maxAcknowledgmentGroupSize); default 1000 */
  ackGroupMaxSize?: number;
}

/** One received entry: a single message or a batch, with its messages located in `buf`. */
class Entry {
  /** messages of this entry handed out, in order */
  next = 0;
  /** messages not yet acknowledged by the application */
  unacked: number;
  /** per message: acknowledged through the single-message API (guards double acks) */
  done: Uint8Array | null = null;

  constructor(
    readonly ledgerId: number,
    readonly entryId: number,
    readonly partition: number,
    readonly redeliveryCount: number,
    readonly buf: Uint8Array,
    /** messages to deliver (acked and compacted-out ones of a batch are left out) */
    readonly count: number,
    readonly batched: boolean,
    /** per message (batched) or null with the single message in off0/len0/seq0 */
    readonly offsets: Int32Array | null,
    readonly lengths: Int32Array | null,
    readonly seqs: Float64Array | null,
    readonly indexes: Int32Array | null,
    readonly off0: number,
    readonly len0: number,
    readonly seq0: number,
    readonly publishTime: number,
    readonly nameStart: number,
    readonly nameEnd: number,
    /** holds the producer name: the frame, when `buf` is a decompressed payload */
    readonly nameBuf: Uint8Array = buf,
  ) {
    this.unacked = count;
  }

  offset(i: number): number {
    return this.offsets ? this.offsets[i]! : this.off0;
  }

  length(i: number): number {
    return this.lengths ? this.lengths[i]! : this.len0;
  }

  sequenceId(i: number): number {
    return this.seqs ? this.seqs[i]! : this.seq0;
  }

  batchIndex(i: number): number {
    return this.indexes ? this.indexes[i]! : -1;
  }

  producerName(): string {
    return decoder.decode(this.nameBuf.subarray(this.nameStart, this.nameEnd));
  }
}

const decoder = new TextDecoder();

/**
 * Messages handed out by one receiveBatch: views into the received frames, valid until
 * the next receiveBatch. Implements the harness's DeliveryBatch shape.
 */
export class ReceivedBatch {
  count = 0;
  private entries: Entry[] = [];
  private idx = new Int32Array(64);

  /** @param partition  the consumer's partition (from its topic name), 0 when not partitioned */
  constructor(private readonly partition = 0) {}

  /** DeliveryBatch.lane: a producer's messages are in order within a partition only */
  lane(): number {
    return this.partition;
  }

  buffer(i: number): Uint8Array {
    return this.entries[i]!.buf;
  }

  offset(i: number): number {
    return this.entries[i]!.offset(this.idx[i]!);
  }

  length(i: number): number {
    return this.entries[i]!.length(this.idx[i]!);
  }

  /** the message's bytes as a view */
  data(i: number): Uint8Array {
    const e = this.entries[i]!;
    const k = this.idx[i]!;
    const off = e.offset(k);
    return e.buf.subarray(off, off + e.length(k));
  }

  messageId(i: number): MessageId {
    const e = this.entries[i]!;
    return messageId(e.ledgerId, e.entryId, e.partition, e.batchIndex(this.idx[i]!));
  }

  redeliveryCount(i: number): number {
    return this.entries[i]!.redeliveryCount;
  }

  /** the producer's sequence id of the message (-1 if it set none) */
  sequenceId(i: number): number {
    return this.entries[i]!.sequenceId(this.idx[i]!);
  }

  publishTime(i: number): number {
    return this.entries[i]!.publishTime;
  }

  /** @internal */
  reset(): void {
    this.count = 0;
  }

  /** @internal */
  push(e: Entry, k: number): void {
    if (this.count === this.idx.length) {
      const next = new Int32Array(this.idx.length * 2);
      next.set(this.idx);
      this.idx = next;
    }
    this.entries[this.count] = e;
    this.idx[this.count++] = k;
  }

  /** @internal */
  entry(i: number): Entry {
    return this.entries[i]!;
  }

  /** @internal the message's position among its entry's delivered messages */
  index(i: number): number {
    return this.idx[i]!;
  }
}

/** One message from the single-message API. */
export interface Message {
  readonly id: MessageId;
  /** a view into the received frame */
  readonly data: Uint8Array;
  readonly redeliveryCount: number;
  readonly sequenceId: number;
  readonly publishTime: number;
  readonly producerName: string;
}

interface Delivered extends Message {
  entry: Entry;
  index: number;
}

type State = 'connecting' | 'ready' | 'closing' | 'closed' | 'failed';

export interface ConsumerStats {
  entriesReceived: number;
  messagesReceived: number;
  reconnects: number;
  /** entries discarded: bad checksum, corrupt compressed payload, undecodable */
  discardedEntries: number;
  /** messages dropped because they belonged to a redelivery epoch we had left */
  staleMessages: number;
  flowCommands: number;
  ackCommands: number;
}

interface Waiter {
  max: number;
  wholeEntries: boolean;
  resolve(b: ReceivedBatch): void;
  timer: NodeJS.Timeout | undefined;
}

export class Consumer implements ConsumerHandler {
  readonly stats: ConsumerStats = { entriesReceived: 0, messagesReceived: 0, reconnects: 0, discardedEntries: 0, staleMessages: 0, flowCommands: 0, ackCommands: 0 };
  /** why entries were discarded (stats.discardedEntries), a few distinct reasons */
  readonly discardReasons = new Set<string>();
  /** Failover: whether this consumer is the active one */
  active = true;
  /** called when messages arrive (lets a caller wait on several consumers at once) */
  onArrival: (() => void) | null = null;
  endOfTopic = false;

  private state: State = 'connecting';
  private conn: Connection | null = null;
  private readonly queue = new Deque<Entry>(256);
  private queued = 0;
  private permits = 0;
  private epoch = 0;
  private waiter: Waiter | null = null;
  private readonly batch: ReceivedBatch;
  private readonly pb = new PbReader();
  private readonly meta = new ReceivedMetadata();
  private readonly smm = new SingleMetadata();
  private readonly ackIds: AckId[] = [];
  /** individual acks made while disconnected */
  private readonly unsentAcks: AckId[] = [];
  /** cumulative ack made while disconnected */
  private unsentCumulative: AckId | null = null;
  /** individual acks waiting for their group to be sent (ackGroupingMs > 0) */
  private readonly groupedAcks: AckId[] = [];
  /** the latest cumulative ack waiting for the group (it covers every earlier one) */
  private groupedCumulative: AckId | null = null;
  private groupTimer: NodeJS.Timeout | undefined;
  private readonly groupMs: number;
  private readonly groupMax: number;
  private readonly link: Reconnector;
  private readonly queueSize: number;
  private readonly subType: number;
  private readonly verify: boolean;
  private failure: Error | null = null;

  private constructor(
    private readonly client: ClientCore,
    readonly consumerId: number,
    private readonly opts: ConsumerOptions,
  ) {
    this.queueSize = opts.receiverQueueSize ?? 1000;
    if (!Number.isInteger(this.queueSize) || this.queueSize < 1) throw invalidError(`pulsar consumer: receiverQueueSize must be a positive integer (got ${this.queueSize})`);
    const st = SubType[opts.subType ?? 'Exclusive'];
    if (st === undefined) throw invalidError(`pulsar consumer: unknown subscription type ${String(opts.subType)}`);
    this.subType = st;
    this.verify = opts.verifyChecksums ?? true;
    this.groupMs = opts.ackGroupingMs ?? 0;
    this.groupMax = opts.ackGroupMaxSize ?? 1000;
    if (!Number.isInteger(this.groupMs) || this.groupMs < 0) throw invalidError(`pulsar consumer: ackGroupingMs must be an integer >= 0 (got ${this.groupMs})`);
    if (!Number.isInteger(this.groupMax) || this.groupMax < 1) throw invalidError(`pulsar consumer: ackGroupMaxSize must be a positive integer (got ${this.groupMax})`);
    this.batch = new ReceivedBatch(Number(/-partition-(\d+)$/.exec(opts.topic)?.[1] ?? 0));
    this.link = new Reconnector(client, {
      label: () => `pulsar consumer ${this.opts.subscription}`,
      again: { doing: 'resubscribing', attempt: 'resubscribe' },
      wanted: () => this.state === 'connecting',
      connect: () => this.connect(),
      reconnected: () => {
        this.stats.reconnects++;
      },
      giveUp: (failure) => {
        this.failure = failure;
        this.state = 'failed';
        this.releaseWaiter();
      },
    });
  }

  static async subscribe(client: ClientCore, consumerId: number, opts: ConsumerOptions): Promise<Consumer> {
    const c = new Consumer(client, consumerId, opts);
    try {
      // Entries are decoded by the codec their metadata names, whatever this consumer's
      // producers use, and synchronously: zstd's wasm (Node before 22.15) is compiled first.
      await prepareCodecs();
      await c.link.first();
    } catch (err) {
      c.state = 'failed';
      throw err;
    }
    return c;
  }

  get topic(): string {
    return this.opts.topic;
  }

  get subscription(): string {
    return this.opts.subscription;
  }

  get connected(): boolean {
    return this.state === 'ready';
  }

  /** messages received and not yet handed out */
  get queuedMessages(): number {
    return this.queued;
  }

  /**
   * Up to `max` messages, waiting at most `maxWaitMs` for the first; an empty batch on
   * timeout or once closed. Synchronous when messages are already queued. The batch is
   * reused: its views are valid until the next call. `wholeEntries`: never split a batch
   * entry between two calls (the first entry comes whole even if it holds more than `max`),
   * as acknowledging in a transaction needs.
   */
  receiveBatch(max: number, maxWaitMs: number, wholeEntries = false): ReceivedBatch | Promise<ReceivedBatch> {
    if (this.queued > 0 || this.state === 'closed' || this.state === 'failed' || maxWaitMs <= 0) return this.fill(max, wholeEntries);
    if (this.waiter) throw invalidError('pulsar consumer: receiveBatch while another receive is waiting');
    return new Promise<ReceivedBatch>((resolve) => {
      const w: Waiter = { max, wholeEntries, resolve, timer: undefined };
      w.timer = setTimeout(() => {
        if (this.waiter === w) this.waiter = null;
        resolve(this.fill(max, wholeEntries));
      }, maxWaitMs);
      this.waiter = w;
    });
  }

  /** One message, or null after `timeoutMs` (default: wait until one comes or the consumer closes). */
  async receive(timeoutMs = 2_147_483_647): Promise<Message | null> {
    const b = await this.receiveBatch(1, timeoutMs);
    if (b.count === 0) return null;
    const e = b.entry(0);
    const k = b.index(0);
    const off = e.offset(k);
    const m: Delivered = {
      id: b.messageId(0),
      data: e.buf.subarray(off, off + e.length(k)),
      redeliveryCount: e.redeliveryCount,
      sequenceId: e.sequenceId(k),
      publishTime: e.publishTime,
      producerName: e.producerName(),
      entry: e,
      index: k,
    };
    return m;
  }

  /** Acknowledges a message from receive(); its entry is acknowledged once all its messages are. */
  acknowledge(m: Message, txn: TxnId | null = null): void {
    const d = m as Delivered;
    const e = d.entry;
    if (!e) throw invalidError('pulsar consumer: acknowledge() takes a message from receive()');
    e.done ??= new Uint8Array(e.count);
    if (e.done[d.index]) return;
    e.done[d.index] = 1;
    if (--e.unacked === 0) this.sendAcks([{ ledgerId: e.ledgerId, entryId: e.entryId, batchIndex: -1 }], 1, false, txn);
  }

  /** Acknowledges a message from receive() and everything before it (not for Shared/Key_Shared). */
  acknowledgeCumulative(m: Message, txn: TxnId | null = null): void {
    const d = m as Delivered;
    const e = d.entry;
    if (!e) throw invalidError('pulsar consumer: acknowledgeCumulative() takes a message from receive()');
    // Up to a message in the middle of a batch: the previous entry is the last complete one.
    const complete = d.index === e.count - 1 || !e.batched;
    const id: AckId = complete ? { ledgerId: e.ledgerId, entryId: e.entryId, batchIndex: -1 } : { ledgerId: e.ledgerId, entryId: e.entryId - 1, batchIndex: -1 };
    if (id.entryId >= 0) this.sendAcks([id], 1, true, txn);
  }

  /**
   * Acknowledges every message of a batch from receiveBatch(): individually (each entry
   * once all its messages are done) or cumulatively (up to the last complete entry).
   */
  ackBatch(batch: ReceivedBatch, cumulative = false, txn: TxnId | null = null): void {
    const ids = this.ackIds;
    let n = 0;
    let last: Entry | null = null;
    for (let i = 0; i < batch.count; i++) {
      const e = batch.entry(i);
      if (--e.unacked === 0) {
        if (cumulative) last = e;
        else {
          const id = (ids[n] ??= { ledgerId: 0, entryId: 0, batchIndex: -1 });
          id.ledgerId = e.ledgerId;
          id.entryId = e.entryId;
          id.batchIndex = -1;
          n++;
        }
      }
    }
    if (cumulative) {
      if (last) this.sendAcks([{ ledgerId: last.ledgerId, entryId: last.entryId, batchIndex: -1 }], 1, true, txn);
    } else if (n > 0) this.sendAcks(ids, n, false, txn);
  }

  /**
   * Acknowledges every message of a batch inside a transaction and resolves once the
   * broker has taken the acknowledgement (its ACK_RESPONSE). The batch must hold whole
   * entries (receiveBatch with wholeEntries): an entry is acknowledged as a whole, and a
   * part of it left for a later transaction would be delivered again if this one commits
   * and that one never does. Unlike plain acks nothing is kept for a reconnection: when
   * this fails the caller aborts the transaction.
   */
  async ackBatchInTxn(batch: ReceivedBatch, txn: TxnId): Promise<void> {
    const conn = this.conn;
    if (!conn || this.state !== 'ready') throw connectionError(`pulsar consumer ${this.opts.subscription}: not connected, cannot acknowledge in a transaction`);
    // Checked before anything is marked acknowledged: each entry's messages in the batch
    // (one run) must be all it has left.
    for (let i = 0, runStart = 0; i < batch.count; i++) {
      const e = batch.entry(i);
      if (i + 1 < batch.count && batch.entry(i + 1) === e) continue;
      if (e.unacked !== i + 1 - runStart) throw invalidError(`pulsar consumer ${this.opts.subscription}: entry ${e.ledgerId}:${e.entryId} is split across batches; receive with wholeEntries for transactions`);
      runStart = i + 1;
    }
    const ids: MessageIdOut[] = [];
    for (let i = 0; i < batch.count; i++) {
      const e = batch.entry(i);
      // batch_size: in a transaction the broker takes an acknowledgement as one message
      // unless told how many the entry holds, and the consumer's unacked count (which stops
      // dispatch on Shared/Key_Shared at maxUnackedMessagesPerConsumer) never comes down.
      if (--e.unacked === 0) ids.push(e.batched ? { ledgerId: e.ledgerId, entryId: e.entryId, batchSize: e.count } : { ledgerId: e.ledgerId, entryId: e.entryId });
    }
    if (ids.length === 0) return;
    const requestId = this.client.newRequestId();
    this.stats.ackCommands++;
    await conn.request(
      { type: Cmd.ACK, ack: { consumerId: this.consumerId, ackType: 0, messageId: ids, txnidLeastBits: txn.leastBits, txnidMostBits: txn.mostBits, requestId } },
      requestId,
      `ACK in transaction ${txnName(txn)} on ${this.opts.topic}`,
    );
  }

  /**
   * Asks the broker to send again every message delivered to this consumer and not yet
   * acknowledged; drops what waits here unread (it comes again). For Exclusive/Failover a
   * new epoch makes the broker's earlier in-flight messages recognisable and dropped.
   */
  redeliverUnacknowledged(): void {
    // What the application acknowledged must reach the broker first, or it comes again.
    this.flushAcks();
    const exclusive = this.subType === SubType.Exclusive || this.subType === SubType.Failover;
    if (exclusive) this.epoch++;
    this.dropQueue();
    this.conn?.send({
      type: Cmd.REDELIVER_UNACKNOWLEDGED_MESSAGES,
      redeliverUnacknowledgedMessages: { consumerId: this.consumerId, ...(exclusive ? { consumerEpoch: this.epoch } : {}) },
    });
  }

  /**
   * Asks for specific entries again (Shared/Key_Shared; an Exclusive or Failover
   * subscription redelivers everything unacknowledged, to keep order).
   */
  redeliver(ids: readonly MessageId[]): void {
    this.flushAcks();
    this.conn?.send({
      type: Cmd.REDELIVER_UNACKNOWLEDGED_MESSAGES,
      redeliverUnacknowledgedMessages: { consumerId: this.consumerId, messageIds: ids.map((id) => ({ ledgerId: id.ledgerId, entryId: id.entryId })) },
    });
  }

  /** The id of the last entry written to the topic (entryId -1 when the current ledger is empty). */
  async getLastMessageId(): Promise<MessageId> {
    const conn = this.conn;
    if (!conn || this.state !== 'ready') throw connectionError(`pulsar consumer ${this.opts.subscription}: not connected`);
    const requestId = this.client.newRequestId();
    const res = await conn.request({ type: Cmd.GET_LAST_MESSAGE_ID, getLastMessageId: { consumerId: this.consumerId, requestId } }, requestId, `GET_LAST_MESSAGE_ID ${this.opts.topic}`);
    const id = res.getLastMessageIdResponse?.lastMessageId;
    if (!id) throw new PulsarWireError('protocol', `pulsar GET_LAST_MESSAGE_ID ${this.opts.topic}: unexpected answer type ${res.type}`);
    return messageId(u64(id.ledgerId), u64(id.entryId), id.partition, id.batchIndex);
  }

  /** Closes the consumer (the subscription stays). */
  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    // Grouped acks go out before CLOSE_CONSUMER (as the Java client flushes on close).
    this.flushAcks();
    this.state = 'closing';
    const conn = this.conn;
    this.conn = null;
    if (conn && !conn.closed) {
      const requestId = this.client.newRequestId();
      try {
        await conn.request({ type: Cmd.CLOSE_CONSUMER, closeConsumer: { consumerId: this.consumerId, requestId } }, requestId, `CLOSE_CONSUMER ${this.opts.subscription}`);
      } catch {
        /* closing anyway */
      }
      conn.unregisterConsumer(this.consumerId);
    }
    this.state = 'closed';
    this.releaseWaiter();
  }

  /** Deletes the subscription, then closes. */
  async unsubscribe(): Promise<void> {
    const conn = this.conn;
    if (conn && this.state === 'ready') {
      this.flushAcks();
      const requestId = this.client.newRequestId();
      await conn.request({ type: Cmd.UNSUBSCRIBE, unsubscribe: { consumerId: this.consumerId, requestId } }, requestId, `UNSUBSCRIBE ${this.opts.subscription}`);
    }
    await this.close();
  }

  // ------------------------------------------------------------ ConsumerHandler

  onMessage(cmd: MessageCommand, f: ParsedFrame): void {
    if (this.state !== 'ready') return;
    if (cmd.consumerEpoch >= 0 && cmd.consumerEpoch < this.epoch) {
      // Sent before our last redeliver-all: it comes again with the new epoch.
      this.stats.staleMessages++;
      this.discardPermits(this.peekBatchSize(f));
      return;
    }
    this.stats.entriesReceived++;
    if (this.verify && !f.checksumOk()) {
      this.discard(cmd, f, AckValidationError.ChecksumMismatch, 'checksum mismatch');
      return;
    }
    let meta: ReceivedMetadata;
    try {
      meta = readMetadata(this.pb.reset(f.buf, f.metadataStart, f.metadataEnd), this.meta);
    } catch {
      this.discard(cmd, f, AckValidationError.BatchDeSerializeError, 'undecodable metadata');
      return;
    }
    let buf = f.buf;
    let start = f.payloadStart;
    let end = f.payloadEnd;
    if (meta.compression !== 0) {
      const out = decompressPayload(meta.compression, f.buf.subarray(start, end), meta.uncompressedSize);
      if (typeof out === 'string') {
        this.discard(cmd, f, AckValidationError.DecompressionError, out);
        return;
      }
      buf = out;
      start = 0;
      end = out.length;
    }
    let entry: Entry;
    if (meta.numMessagesInBatch < 0) {
      const len = meta.nullValue ? 0 : end - start;
      entry = new Entry(cmd.ledgerId, cmd.entryId, cmd.partition, cmd.redeliveryCount, buf, 1, false, null, null, null, null, start, len, meta.sequenceId, meta.publishTime, meta.nameStart, meta.nameEnd, f.buf);
    } else {
      const n = meta.numMessagesInBatch;
      const offsets = new Int32Array(n);
      const lengths = new Int32Array(n);
      const seqs = new Float64Array(n);
      try {
        splitBatch(this.pb, buf, start, end, n, offsets, lengths, seqs, this.smm);
      } catch {
        this.discard(cmd, f, AckValidationError.BatchDeSerializeError, 'malformed batch');
        return;
      }
      // Keep the messages still to deliver: not acknowledged before (ack_set) nor compacted out.
      let kept = 0;
      const indexes = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        if (!cmd.wanted(i) || lengths[i]! < 0) continue;
        offsets[kept] = offsets[i]!;
        lengths[kept] = lengths[i]!;
        seqs[kept] = seqs[i]! >= 0 ? seqs[i]! : meta.sequenceId + i;
        indexes[kept] = i;
        kept++;
      }
      if (kept < n) this.discardPermits(n - kept);
      if (kept === 0) {
        // Nothing left to deliver, but the entry must still be acknowledged as a whole.
        this.sendAcks([{ ledgerId: cmd.ledgerId, entryId: cmd.entryId, batchIndex: -1 }], 1, false, null);
        return;
      }
      entry = new Entry(cmd.ledgerId, cmd.entryId, cmd.partition, cmd.redeliveryCount, buf, kept, true, offsets, lengths, seqs, indexes, 0, 0, 0, meta.publishTime, meta.nameStart, meta.nameEnd, f.buf);
    }
    this.stats.messagesReceived += entry.count;
    this.queue.push(entry);
    this.queued += entry.count;
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      clearTimeout(w.timer);
      w.resolve(this.fill(w.max, w.wholeEntries));
    }
    this.onArrival?.();
  }

  onClosedByBroker(reason: string): void {
    this.lostConnection(reason);
  }

  onConnectionClosed(err: Error): void {
    this.lostConnection(err.message);
  }

  onActiveChange(active: boolean): void {
    this.active = active;
  }

  onEndOfTopic(): void {
    this.endOfTopic = true;
  }

  // ------------------------------------------------------------ internals

  private fill(max: number, wholeEntries = false): ReceivedBatch {
    const b = this.batch;
    b.reset();
    while (b.count < max) {
      const e = this.queue.peek();
      if (!e) break;
      const left = e.count - e.next;
      if (wholeEntries && b.count > 0 && b.count + left > max) break;
      const take = wholeEntries ? left : Math.min(left, max - b.count);
      for (let k = 0; k < take; k++) b.push(e, e.next + k);
      e.next += take;
      if (e.next === e.count) this.queue.shift();
    }
    this.queued -= b.count;
    this.grantPermits(b.count);
    return b;
  }

  private grantPermits(n: number): void {
    this.permits += n;
    if (this.permits >= this.queueSize / 2 && this.conn && this.state === 'ready') {
      this.conn.send({ type: Cmd.FLOW, flow: { consumerId: this.consumerId, messagePermits: this.permits } });
      this.stats.flowCommands++;
      this.permits = 0;
    }
  }

  /** Permits for messages the broker counted as delivered but the application never sees. */
  private discardPermits(n: number): void {
    this.grantPermits(n);
  }

  /** Messages an entry counts for (the broker charged that many permits). */
  private peekBatchSize(f: ParsedFrame): number {
    try {
      const n = readMetadata(this.pb.reset(f.buf, f.metadataStart, f.metadataEnd), this.meta).numMessagesInBatch;
      return n < 0 ? 1 : n;
    } catch {
      return 1;
    }
  }

  /** Acknowledges an entry that cannot be delivered with the reason (as the Java client does). */
  private discard(cmd: MessageCommand, f: ParsedFrame, validationError: number, why: string): void {
    this.stats.discardedEntries++;
    if (this.discardReasons.size < 10) this.discardReasons.add(why);
    this.client.log(`pulsar consumer ${this.opts.subscription}: discarding entry ${cmd.ledgerId}:${cmd.entryId}: ${why}`);
    this.discardPermits(this.peekBatchSize(f));
    this.conn?.send({
      type: Cmd.ACK,
      ack: { consumerId: this.consumerId, ackType: 0, messageId: [{ ledgerId: cmd.ledgerId, entryId: cmd.entryId }], validationError },
    });
  }

  /**
   * Sends acks, or gathers them for the group (ackGroupingMs > 0). Acks in a transaction
   * are never grouped: the transaction's outcome must include them, as in Java, where a
   * transactional ack goes at once.
   */
  private sendAcks(ids: readonly AckId[], count: number, cumulative: boolean, txn: TxnId | null): void {
    if (this.groupMs === 0 || txn) {
      this.writeAcks(ids, count, cumulative, txn);
      return;
    }
    if (this.state === 'closed' || this.state === 'closing' || this.state === 'failed') return;
    if (cumulative) this.groupedCumulative = { ...ids[count - 1]! };
    else for (let i = 0; i < count; i++) this.groupedAcks.push({ ...ids[i]! });
    if (this.groupedAcks.length >= this.groupMax) this.flushAcks();
    else if (!this.groupTimer) {
      this.groupTimer = setTimeout(() => this.flushAcks(), this.groupMs);
      this.groupTimer.unref();
    }
  }

  /** Sends the acks gathered for the group now (kept for the next subscription while disconnected). */
  flushAcks(): void {
    clearTimeout(this.groupTimer);
    this.groupTimer = undefined;
    if (this.groupedCumulative) {
      this.writeAcks([this.groupedCumulative], 1, true, null);
      this.groupedCumulative = null;
    }
    const ids = this.groupedAcks;
    for (let i = 0; i < ids.length; i += this.groupMax) {
      const part = i === 0 && ids.length <= this.groupMax ? ids : ids.slice(i, i + this.groupMax);
      this.writeAcks(part, part.length, false, null);
    }
    ids.length = 0;
  }

  private writeAcks(ids: readonly AckId[], count: number, cumulative: boolean, txn: TxnId | null): void {
    if (count === 0) return;
    const conn = this.conn;
    if (!conn || this.state !== 'ready') {
      // Kept for the next subscription (ignored once closed).
      if (this.state === 'closed' || this.state === 'closing' || this.state === 'failed') return;
      if (cumulative) this.unsentCumulative = { ...ids[count - 1]! };
      else for (let i = 0; i < count; i++) this.unsentAcks.push({ ...ids[i]! });
      return;
    }
    conn.write(encodeSimpleFrame(encodeAckCommand(this.consumerId, cumulative, ids, count, txn, -1)));
    this.stats.ackCommands++;
  }

  private dropQueue(): void {
    const dropped = this.queued;
    this.queue.drain();
    this.queued = 0;
    if (dropped > 0) this.discardPermits(dropped);
  }

  private releaseWaiter(): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = null;
    clearTimeout(w.timer);
    w.resolve(this.fill(w.max, w.wholeEntries));
  }

  private lostConnection(reason: string): void {
    if (this.state !== 'ready') return;
    const conn = this.conn;
    this.conn = null;
    conn?.unregisterConsumer(this.consumerId);
    this.state = 'connecting';
    this.link.lost(reason);
  }

  /** Why the consumer stopped for good, if it did. */
  get error(): Error | null {
    return this.failure;
  }

  /** One attempt: lookup, connection, SUBSCRIBE, pending acks, FLOW. */
  private async connect(): Promise<void> {
    const { conn } = await attach(this.client, {
      topic: this.opts.topic,
      register: (c) => c.registerConsumer(this.consumerId, this),
      unregister: (c) => c.unregisterConsumer(this.consumerId),
      create: (requestId) => ({
        type: Cmd.SUBSCRIBE,
        subscribe: {
          topic: this.opts.topic,
          subscription: this.opts.subscription,
          subType: this.subType,
          consumerId: this.consumerId,
          requestId,
          ...(this.opts.consumerName ? { consumerName: this.opts.consumerName } : {}),
          ...(this.opts.priorityLevel !== undefined ? { priorityLevel: this.opts.priorityLevel } : {}),
          durable: this.opts.durable ?? true,
          initialPosition: this.opts.initialPosition === 'earliest' ? InitialPosition.Earliest : InitialPosition.Latest,
          ...(this.subType === SubType.Key_Shared ? { keySharedMeta: { keySharedMode: 0 } } : {}),
          consumerEpoch: this.epoch,
        },
      }),
      what: `SUBSCRIBE ${this.opts.topic} ${this.opts.subscription}`,
      close: (requestId) => ({ type: Cmd.CLOSE_CONSUMER, closeConsumer: { consumerId: this.consumerId, requestId } }),
      closeWhat: 'CLOSE_CONSUMER',
    });
    if (this.state !== 'connecting') {
      conn.unregisterConsumer(this.consumerId);
      return;
    }
    if (conn.closed) throw connectionError(`pulsar SUBSCRIBE ${this.opts.topic}: connection to ${conn.remote} closed`);
    this.conn = conn;
    this.state = 'ready';
    this.link.sessionStarted();
    // What waited here unread is redelivered by the broker: drop it, start the permits afresh.
    this.queue.drain();
    this.queued = 0;
    this.permits = 0;
    if (this.unsentCumulative) this.writeAcks([this.unsentCumulative], 1, true, null);
    if (this.unsentAcks.length > 0) this.writeAcks(this.unsentAcks, this.unsentAcks.length, false, null);
    this.unsentCumulative = null;
    this.unsentAcks.length = 0;
    // Then any group gathered while disconnected (its cumulative ack is the newer one).
    this.flushAcks();
    conn.send({ type: Cmd.FLOW, flow: { consumerId: this.consumerId, messagePermits: this.queueSize } });
    this.stats.flowCommands++;
  }
}

