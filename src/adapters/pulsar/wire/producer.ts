/**
 * A producer: batches messages into entries, sends them with sequence ids, matches
 * receipts to entries in order, and survives connection loss.
 *
 * Sequence ids: every message has one (the caller's, or the next after what the broker
 * last persisted for this producer name). An entry is sent with sequence_id = its first
 * message's and, when batched, highest_sequence_id = its last message's, which is what
 * broker deduplication keys on.
 *
 * Reconnection: when the connection drops (or the broker closes the producer) the
 * producer looks the topic up again, re-creates itself under the same name with a higher
 * epoch, and resends every entry not yet acknowledged, in order. With deduplication on
 * the broker drops those it already stored (their receipts carry id -1:-1), so nothing
 * is written twice; without it they may be.
 *
 * Outcomes: each message ends exactly once in a receipt (stored), an error, or a timeout.
 * `onEntry` reports them per entry (no allocation per message); `send()` wraps a promise
 * around one message for general use.
 */
import { EntryBuilder, type BuiltEntry } from './batch.ts';
import { codecNamed, type Codec, type CompressionName } from './compression.ts';
import { forEachRun, KeyBatcher } from './key-batch.ts';
import type { Connection, ProducerHandler } from './connection.ts';
import { Deque } from './deque.ts';
import { closedError, connectionError, corruptError, invalidError, isDefinitiveSendError, notSentError, PulsarError, PulsarWireError, timeoutError } from './errors.ts';
import type { SendReceipt, TxnId } from './fastcodec.ts';
import { parseFrame } from './framing.ts';
import { Cmd, u64 } from './proto.ts';
import type { BrokerAddress } from './lookup.ts';
import { messageId, type MessageId } from './message-id.ts';
import { attach, Reconnector } from './reconnect.ts';

/** What a producer (or consumer) needs from the client. */
export interface ClientCore {
  lookup(topic: string): Promise<BrokerAddress>;
  connection(addr: BrokerAddress): Promise<Connection>;
  newRequestId(): number;
  readonly operationTimeoutMs: number;
  readonly reconnectInitialMs: number;
  readonly reconnectMaxMs: number;
  log(line: string): void;
}

export interface ProducerOptions {
  /** "persistent://tenant/ns/topic" (a partition: "...-partition-N") */
  topic: string;
  /** fixed name (needed for deduplication across sessions); default: the broker picks one */
  producerName?: string;
  /** default true */
  batching?: boolean;
  /** messages per batch entry; default 1000 */
  batchMaxMessages?: number;
  /** payload bytes per batch entry; default 128 KiB */
  batchMaxBytes?: number;
  /** longest a message waits in an open batch; default 1 ms (0: until the end of the tick) */
  batchMaxDelayMs?: number;
  /** messages sent and not yet settled, open batch included; default 1000 */
  maxPendingMessages?: number;
  /** an entry unanswered this long fails with a timeout (outcome unknown), and every entry pending with it; 0 = never; default 30 s */
  sendTimeoutMs?: number;
  /** compresses each entry's payload as the Java client does (compressionType); default none */
  compression?: CompressionName;
  /** tells the broker this producer will send in transactions (reserved) */
  txnEnabled?: boolean;
  /**
   * Called once per entry when it settles: messages with sequence ids
   * [firstSeq, firstSeq + count) were stored (err null; id of the entry, -1:-1 for a
   * duplicate the broker had already stored) or not (err set).
   */
  onEntry?: (firstSeq: number, count: number, err: Error | null, ledgerId: number, entryId: number) => void;
}

export type SendCallback = (err: Error | null, id: MessageId | null) => void;

interface PendingEntry extends BuiltEntry {
  createdAt: number;
  callbacks: SendCallback[] | null;
  /** written to some connection at least once (so it may be stored) */
  written: boolean;
  /** times the broker refused it with ChecksumError while its checksum verified here */
  checksumRefusals: number;
}

/**
 * Resends of an entry the broker keeps refusing with ChecksumError although it verifies
 * here: the Java client resends without limit; past this the entry fails instead of
 * looping (something on the path corrupts it every time).
 */
export const MAX_CHECKSUM_RESENDS = 3;

/**
 * Whether a receipt whose sequence_id is the entry's first also ends where the entry ends
 * (highest_sequence_id), as ProducerImpl.ackReceived checks: a receipt for part of a batch
 * must not settle all of it. A highest_sequence_id not above sequence_id (brokers before
 * it existed leave it 0) says nothing and is taken as a match, as Java does.
 */
function coversEntry(r: SendReceipt, e: PendingEntry): boolean {
  return r.sequenceId >= r.highestSequenceId || r.highestSequenceId === e.lastSeq;
}

type State = 'connecting' | 'ready' | 'closing' | 'closed' | 'failed';

export interface ProducerStats {
  entriesSent: number;
  messagesAcked: number;
  /** entries whose receipt said "duplicate, already stored" */
  duplicateReceipts: number;
  reconnects: number;
  resentEntries: number;
  timedOutEntries: number;
}

export class Producer implements ProducerHandler {
  name: string;
  /** highest sequence id the broker had persisted for this name when we (re)connected */
  lastSequenceIdAtConnect = -1;
  readonly stats: ProducerStats = { entriesSent: 0, messagesAcked: 0, duplicateReceipts: 0, reconnects: 0, resentEntries: 0, timedOutEntries: 0 };

  private state: State = 'connecting';
  private conn: Connection | null = null;
  private epoch = 0;
  private partition = -1;
  private nextSeq = 0;
  private readonly pending = new Deque<PendingEntry>(256);
  private pendingMessages = 0;
  private builder: EntryBuilder;
  private builderCallbacks: SendCallback[] | null = null;
  /** keyed messages with batching on: one open batch per key (made at the first) */
  private keyed: KeyBatcher | null = null;
  private batchTimer: NodeJS.Timeout | undefined;
  private timeoutTimer: NodeJS.Timeout | undefined;
  private readonly waiters: (() => void)[] = [];
  private readonly link: Reconnector;
  private failure: Error | null = null;
  private maxMessageSize = Number.MAX_SAFE_INTEGER;
  private codec: Codec | null = null;
  /**
   * Payload bytes an entry may hold: batchMaxBytes, but never more than the broker takes
   * (its maxMessageSize from CONNECTED, as the Java client caps a batch at
   * ClientCnx.getMaxMessageSize); a larger entry would be refused, and resent, for ever.
   */
  private entryMaxBytes: number;
  private readonly batching: boolean;
  private readonly maxMessages: number;
  private readonly maxBytes: number;
  private readonly maxDelayMs: number;
  private readonly maxPending: number;
  private readonly sendTimeoutMs: number;

  private constructor(
    private readonly client: ClientCore,
    readonly producerId: number,
    private readonly opts: ProducerOptions,
  ) {
    this.name = opts.producerName ?? '';
    this.batching = opts.batching ?? true;
    this.maxMessages = positive(opts.batchMaxMessages ?? 1000, 'batchMaxMessages');
    this.maxBytes = positive(opts.batchMaxBytes ?? 128 * 1024, 'batchMaxBytes');
    this.entryMaxBytes = this.maxBytes;
    this.maxDelayMs = opts.batchMaxDelayMs ?? 1;
    this.maxPending = positive(opts.maxPendingMessages ?? 1000, 'maxPendingMessages');
    this.sendTimeoutMs = opts.sendTimeoutMs ?? 30_000;
    this.link = new Reconnector(client, {
      label: () => `pulsar producer ${this.name}`,
      again: { doing: 'reconnecting', attempt: 'reconnect' },
      wanted: () => this.state === 'connecting',
      connect: () => this.connect(),
      reconnected: () => {
        this.stats.reconnects++;
      },
      giveUp: (failure) => this.giveUp(failure),
    });
    const m = /-partition-(\d+)$/.exec(opts.topic);
    if (m) this.partition = Number(m[1]);
    // Without a name of ours the broker assigns one; connect() then rebuilds the builder.
    this.builder = new EntryBuilder(this.batching, new TextEncoder().encode(this.name), producerId);
  }

  /** Creates the producer on the broker; retriable failures are retried until the operation timeout. */
  static async create(client: ClientCore, producerId: number, opts: ProducerOptions): Promise<Producer> {
    const p = new Producer(client, producerId, opts);
    try {
      p.codec = p.builder.codec = await codecNamed(opts.compression ?? 'none');
      await p.link.first();
    } catch (err) {
      p.state = 'failed';
      throw err;
    }
    if (p.sendTimeoutMs > 0) {
      p.timeoutTimer = setInterval(() => p.expire(), Math.min(1000, Math.max(10, p.sendTimeoutMs / 4)));
      p.timeoutTimer.unref();
    }
    return p;
  }

  get topic(): string {
    return this.opts.topic;
  }

  get connected(): boolean {
    return this.state === 'ready';
  }

  /** Messages that may still be added before the pending limit is reached. */
  get room(): number {
    return this.maxPending - this.pendingMessages - this.openCount;
  }

  /** messages sent (or in the open batch) and not yet settled */
  get pendingCount(): number {
    return this.pendingMessages + this.openCount;
  }

  /** messages in the open batch (or batches, one per key), not yet written */
  get openCount(): number {
    return this.builder.count + (this.keyed?.count ?? 0);
  }

  /** The sequence id the next message without an explicit one gets. */
  get nextSequenceId(): number {
    return this.nextSeq;
  }

  /**
   * Resolves once there is room (or the producer is closed: the next send then throws).
   * Sends the open batch first: waiting for a timer while the window is full would stall.
   */
  waitForRoom(): Promise<void> | undefined {
    if (this.room > 0 || this.state === 'closed' || this.state === 'failed') return undefined;
    this.flushBatch();
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Sends one message; resolves with its id once stored. */
  send(payload: Uint8Array, opts: { sequenceId?: number; txn?: TxnId } = {}): Promise<MessageId> {
    return new Promise<MessageId>((resolve, reject) => {
      this.sendAsync(payload, (err, id) => (err ? reject(err) : resolve(id!)), opts);
    });
  }

  /** Sends one message; `callback` gets its id or error. Does not wait for room. */
  sendAsync(payload: Uint8Array, callback: SendCallback, opts: { sequenceId?: number; txn?: TxnId } = {}): void {
    const seq = opts.sequenceId ?? this.nextSeq;
    this.append(payload, 0, payload.length, seq, opts.txn ?? null, callback);
  }

  /**
   * Sends `count` messages of `size` bytes laid out back to back in `bytes`, with sequence
   * ids firstSeq, firstSeq+1, ... (copied: `bytes` may be reused on return). Outcomes go to
   * `onEntry`. Does not wait for room: check `room` / `waitForRoom()` first.
   */
  sendMessages(bytes: Uint8Array, size: number, count: number, firstSeq: number, txn: TxnId | null = null): void {
    for (let i = 0; i < count; i++) this.append(bytes, i * size, size, firstSeq + i, txn, null);
  }

  /**
   * Sends one message with a key (partition_key), with sequence id `seq`; its outcome goes
   * to `onEntry`. With batching it joins its key's open batch (key-based batching, see
   * key-batch.ts); without, it is an entry of its own. Does not wait for room.
   */
  sendKeyed(src: Uint8Array, off: number, n: number, seq: number, key: string): void {
    if (!this.batching) {
      this.append(src, off, n, seq, null, null, new TextEncoder().encode(key));
      return;
    }
    if (this.refuse(seq, n, null)) return;
    const kb = (this.keyed ??= new KeyBatcher(new TextEncoder().encode(this.name), this.producerId, this.codec));
    if (kb.count > 0 && (seq <= kb.highestSeq || kb.size + KeyBatcher.costOf(key, n, seq) > this.entryMaxBytes)) this.flushBatch();
    kb.add(key, src, off, n, seq);
    if (seq >= this.nextSeq) this.nextSeq = seq + 1;
    if (kb.count >= this.maxMessages || kb.size >= this.entryMaxBytes) this.flushBatch();
    else if (kb.count === 1) this.armBatchTimer();
  }

  /** Sends the open batch (every key's, with key-based batching) now. */
  flushBatch(): void {
    if (this.keyed?.count) for (const e of this.closeKeyed()) this.enqueue(e);
    const entry = this.closeBatch();
    if (entry) this.enqueue(entry);
  }

  private enqueue(entry: PendingEntry): void {
    this.pending.push(entry);
    this.pendingMessages += entry.count;
    if (this.state === 'ready' && this.conn) {
      entry.written = true;
      this.stats.entriesSent++;
      this.conn.write(entry.frame);
    }
  }

  /** The open batch as an entry, not yet pending nor written. */
  private closeBatch(): PendingEntry | null {
    if (this.builder.count === 0) return null;
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    const built = this.builder.finish(Date.now());
    const entry: PendingEntry = { ...built, createdAt: Date.now(), callbacks: this.builderCallbacks, written: false, checksumRefusals: 0 };
    this.builderCallbacks = null;
    return entry;
  }

  /** The open key batches as entries, in the order they must be sent. */
  private closeKeyed(): PendingEntry[] {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    const now = Date.now();
    return this.keyed!.finishAll(now).map((built) => ({ ...built, createdAt: now, callbacks: null, written: false, checksumRefusals: 0 }));
  }

  private armBatchTimer(): void {
    if (this.maxDelayMs > 0) this.batchTimer = setTimeout(() => this.flushBatch(), this.maxDelayMs);
    else queueMicrotask(() => this.flushBatch());
  }

  /**
   * Sends the open batch and waits until every message has settled, at most `timeoutMs`.
   * Resolves true when nothing is pending any more.
   */
  async flush(timeoutMs = this.sendTimeoutMs || 30_000): Promise<boolean> {
    this.flushBatch();
    const deadline = Date.now() + timeoutMs;
    while (this.pendingMessages > 0 && this.state !== 'closed' && this.state !== 'failed') {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.pendingMessages === 0;
  }

  /**
   * Closes the producer on the broker. What is still pending fails: with `sent = false`
   * (certainly not stored) for messages never written to a broker, else as unknown.
   */
  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    const wasFailed = this.state === 'failed';
    this.state = 'closing';
    clearTimeout(this.batchTimer);
    clearInterval(this.timeoutTimer);
    const conn = this.conn;
    this.conn = null;
    if (conn && !conn.closed && !wasFailed) {
      const requestId = this.client.newRequestId();
      try {
        await conn.request({ type: Cmd.CLOSE_PRODUCER, closeProducer: { producerId: this.producerId, requestId } }, requestId, `CLOSE_PRODUCER ${this.name}`);
      } catch {
        /* closing anyway */
      }
      conn.unregisterProducer(this.producerId);
    }
    this.failAll(closedError(`pulsar producer ${this.name}: closed before the broker answered`), notSentError(`pulsar producer ${this.name}: closed before the message was sent`));
    this.state = 'closed';
    this.wake();
  }

  // ------------------------------------------------------------ ProducerHandler

  onReceipt(r: SendReceipt): void {
    const head = this.pending.peek();
    if (!head) return; // late answer for an entry that timed out
    if (r.sequenceId !== head.firstSeq && this.settleOutOfTurn(r)) return;
    if (r.sequenceId < head.firstSeq) return; // late answer for an entry that timed out
    if (r.sequenceId > head.firstSeq || !coversEntry(r, head)) {
      // The broker answered an entry we have not reached, or another range than the
      // entry's: we lost track. Reconnecting resends everything pending, and deduplication
      // sorts it out (the Java client closes the connection here too).
      this.client.log(`pulsar producer ${this.name}: receipt for sequences ${r.sequenceId}..${r.highestSequenceId} while expecting ${head.firstSeq}..${head.lastSeq}; reconnecting to resynchronize`);
      this.conn?.destroy(new PulsarWireError('protocol', `pulsar producer ${this.name}: receipts out of step`));
      return;
    }
    this.pending.shift();
    this.pendingMessages -= head.count;
    if (r.ledgerId === -1 && r.entryId === -1) this.stats.duplicateReceipts++;
    this.stats.messagesAcked += head.count;
    this.settle(head, null, r.ledgerId, r.entryId);
  }

  /**
   * The broker answers a duplicate at once (-1:-1), ahead of entries still being stored,
   * when a caller re-sends an old sequence id on purpose. Such an entry is settled where
   * it sits; any other answer out of turn means we lost track, except while the session
   * is being restarted after a send error: entries behind the failed one that the broker
   * stored are settled then, rather than resent (and stored twice without deduplication).
   */
  private settleOutOfTurn(r: SendReceipt): boolean {
    if ((r.ledgerId !== -1 || r.entryId !== -1) && this.state === 'ready') return false;
    for (let i = 1; i < this.pending.length; i++) {
      const e = this.pending.at(i)!;
      if (e.firstSeq !== r.sequenceId || !coversEntry(r, e)) continue;
      this.pending.removeAt(i);
      this.pendingMessages -= e.count;
      this.stats.duplicateReceipts++;
      this.stats.messagesAcked += e.count;
      this.settle(e, null, -1, -1);
      return true;
    }
    return false;
  }

  onSendError(sequenceId: number, err: PulsarError): void {
    const head = this.pending.peek();
    if (head && sequenceId >= head.firstSeq && sequenceId <= head.lastSeq && isDefinitiveSendError(err)) {
      this.pending.shift();
      this.pendingMessages -= head.count;
      this.settle(head, err, -1, -1);
      return;
    }
    if (err.serverError === 'ChecksumError' && this.settledChecksumError(sequenceId)) return;
    // Transient (e.g. PersistenceError): as the Java client does (ClientCnx.handleSendError
    // since it stopped closing the connection), only this producer starts over and resends;
    // the entry may have been stored, and deduplication makes the resend safe. The
    // connection, and the producers, consumers and transaction requests on it, carry on.
    this.client.log(`pulsar producer ${this.name}: ${err.message}; re-creating the producer and resending`);
    this.restartSession(err.message);
  }

  /**
   * ChecksumError: the broker found the entry's CRC32C wrong and did not store it. Checked
   * again here, as ProducerImpl.recoverChecksumError does: bytes that no longer match their
   * checksum were corrupted in this process, and resending them cannot help, so the entry
   * fails; bytes that match were corrupted on the way and are resent (false), at most
   * MAX_CHECKSUM_RESENDS times. True when nothing is left to resend.
   */
  private settledChecksumError(sequenceId: number): boolean {
    for (let i = 0; i < this.pending.length; i++) {
      const e = this.pending.at(i)!;
      if (sequenceId < e.firstSeq || sequenceId > e.lastSeq) continue;
      const intact = parseFrame(e.frame.subarray(4)).checksumOk();
      if (intact && ++e.checksumRefusals <= MAX_CHECKSUM_RESENDS) return false;
      this.pending.removeAt(i);
      this.pendingMessages -= e.count;
      const what = `pulsar producer ${this.name}: entry ${e.firstSeq}..${e.lastSeq}`;
      this.settle(
        e,
        corruptError(
          intact
            ? `${what} refused ${e.checksumRefusals} times with ChecksumError although its checksum verifies here; given up (not stored)`
            : `${what} is corrupt: its bytes no longer match the checksum it was sent with (changed in this process); not stored, not resent`,
        ),
        -1,
        -1,
      );
      return true;
    }
    return true; // no longer pending (timed out): nothing to resend
  }

  onClosedByBroker(reason: string): void {
    this.lostConnection(reason);
  }

  onConnectionClosed(err: Error): void {
    this.lostConnection(err.message);
  }

  // ------------------------------------------------------------ internals

  /** Whether a message cannot be sent at all (closed, too large): then it is rejected here. */
  private refuse(seq: number, n: number, cb: SendCallback | null): boolean {
    if (this.state === 'closed' || this.state === 'closing' || this.state === 'failed') {
      const err = notSentError(`pulsar producer ${this.name}: ${this.state}${this.failure ? ` (${this.failure.message})` : ''}`, this.failure ?? undefined);
      this.reject(seq, 1, err, cb);
      return true;
    }
    if (n > this.maxMessageSize) {
      this.reject(seq, 1, invalidError(`pulsar producer ${this.name}: message of ${n} bytes exceeds the broker's maxMessageSize ${this.maxMessageSize}`), cb);
      return true;
    }
    return false;
  }

  /** `key`: only without batching (an entry of one message); keyed batches go through sendKeyed. */
  private append(src: Uint8Array, off: number, n: number, seq: number, txn: TxnId | null, cb: SendCallback | null, key: Uint8Array | null = null): void {
    if (this.refuse(seq, n, cb)) return;
    const b = this.builder;
    // An entry holds consecutive sequence ids only: receipts and broker deduplication
    // treat it as the range [sequence_id, highest_sequence_id], so a re-sent old message
    // batched with new ones would take the new ones down with it as duplicates.
    if (b.count > 0 && (b.txn !== txn || seq !== b.lastSeq + 1 || (this.batching && b.size + EntryBuilder.costOf(true, n, seq) > this.entryMaxBytes))) this.flushBatch();
    if (b.count === 0) {
      b.txn = txn;
      b.key = key;
    }
    b.add(src, off, n, seq);
    if (seq >= this.nextSeq) this.nextSeq = seq + 1;
    if (cb) {
      // Callbacks line up with the batch's messages: earlier ones without get a no-op.
      this.builderCallbacks ??= new Array<SendCallback>(b.count - 1).fill(noop);
      this.builderCallbacks.push(cb);
    } else if (this.builderCallbacks) this.builderCallbacks.push(noop);
    if (!this.batching || b.count >= this.maxMessages || b.size >= this.entryMaxBytes) this.flushBatch();
    else if (b.count === 1) this.armBatchTimer();
  }

  private reject(seq: number, count: number, err: Error, cb: SendCallback | null): void {
    cb?.(err, null);
    this.opts.onEntry?.(seq, count, err, -1, -1);
  }

  private settle(e: PendingEntry, err: Error | null, ledgerId: number, entryId: number): void {
    if (e.callbacks) {
      for (let i = 0; i < e.callbacks.length; i++) {
        e.callbacks[i]!(err, err ? null : messageId(ledgerId, entryId, this.partition, this.batching ? i : -1));
      }
    }
    const onEntry = this.opts.onEntry;
    if (onEntry && e.seqs) forEachRun(e.seqs, (first, count) => onEntry(first, count, err, ledgerId, entryId));
    else onEntry?.(e.firstSeq, e.count, err, ledgerId, entryId);
    this.wake();
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    for (const w of this.waiters.splice(0)) w();
  }

  /**
   * Once the oldest entry is older than the send timeout, fails every pending entry (their
   * outcome is unknown), as ProducerImpl's send timeout fails all pending messages. Failing
   * only the oldest would resend the later ones on a reconnect: stored above a gap, they
   * raise deduplication's high-water mark, and a later resend of the gap is answered
   * -1:-1 (duplicate) although it was never stored.
   */
  private expire(): void {
    const head = this.pending.peek();
    if (!head || Date.now() - head.createdAt < this.sendTimeoutMs) return;
    const why = `pulsar producer ${this.name}: no receipt within ${this.sendTimeoutMs} ms`;
    // Pending includes the open batch (as failPendingBatchMessages fails it); never written.
    const open = this.keyed?.count ? this.closeKeyed() : [];
    const batch = this.closeBatch();
    if (batch) open.push(batch);
    const entries = this.pending.drain();
    for (const e of entries) this.pendingMessages -= e.count;
    for (const e of [...entries, ...open]) {
      this.stats.timedOutEntries++;
      const err = timeoutError(`${why}${e === head ? '' : ' for an earlier entry'} (the message may or may not be stored)`);
      if (!e.written) err.sent = false;
      this.settle(e, err, -1, -1);
    }
  }

  private failAll(written: Error, unwritten: Error): void {
    this.flushBatch();
    for (const e of this.pending.drain()) {
      this.pendingMessages -= e.count;
      this.settle(e, e.written ? written : unwritten, -1, -1);
    }
  }

  /**
   * A new session of this producer on the same connection: CLOSE_PRODUCER, then the
   * reconnect loop creates it again (a higher epoch) and resends what is pending. Closing
   * first matters: a broker answers PRODUCER for an id it still holds with success and
   * keeps the old session. Receipts that arrive meanwhile still settle their entries.
   */
  private restartSession(reason: string): void {
    const conn = this.conn;
    if (this.state !== 'ready' || !conn) return;
    this.conn = null;
    this.state = 'connecting';
    const requestId = this.client.newRequestId();
    void conn
      .request({ type: Cmd.CLOSE_PRODUCER, closeProducer: { producerId: this.producerId, requestId } }, requestId, `CLOSE_PRODUCER ${this.name}`)
      .catch(() => undefined) // a lost connection leads to the same reconnect
      .then(() => {
        conn.unregisterProducer(this.producerId);
        this.link.lost(reason);
      });
  }

  private lostConnection(reason: string): void {
    if (this.state !== 'ready') return;
    const conn = this.conn;
    this.conn = null;
    conn?.unregisterProducer(this.producerId);
    this.state = 'connecting';
    this.link.lost(reason);
  }

  /** Reconnecting met an error retrying cannot fix: everything pending fails with it. */
  private giveUp(failure: Error): void {
    this.failure = failure;
    this.state = 'failed';
    clearTimeout(this.batchTimer);
    clearInterval(this.timeoutTimer);
    const why = `pulsar producer ${this.name} failed: ${failure.message}`;
    this.failAll(closedError(why, failure), notSentError(why, failure));
    this.wake();
  }

  /** One attempt: lookup, connection, PRODUCER; then resend what is pending. */
  private async connect(): Promise<void> {
    const { conn, res } = await attach(this.client, {
      topic: this.opts.topic,
      register: (c) => c.registerProducer(this.producerId, this),
      unregister: (c) => c.unregisterProducer(this.producerId),
      create: (requestId) => ({
        type: Cmd.PRODUCER,
        producer: {
          topic: this.opts.topic,
          producerId: this.producerId,
          requestId,
          ...(this.name ? { producerName: this.name, userProvidedProducerName: this.opts.producerName !== undefined } : {}),
          epoch: this.epoch,
          ...(this.opts.txnEnabled ? { txnEnabled: true } : {}),
        },
      }),
      what: `PRODUCER ${this.opts.topic}${this.name ? ` (${this.name})` : ''}`,
      close: (requestId) => ({ type: Cmd.CLOSE_PRODUCER, closeProducer: { producerId: this.producerId, requestId } }),
      closeWhat: 'CLOSE_PRODUCER',
    });
    const ps = res.producerSuccess;
    if (!ps) throw new PulsarWireError('protocol', `pulsar PRODUCER ${this.opts.topic}: unexpected answer type ${res.type}`);
    if (this.state !== 'connecting') {
      conn.unregisterProducer(this.producerId);
      return;
    }
    // Lost while the answer was on its way: its close notice found us still connecting.
    if (conn.closed) throw connectionError(`pulsar PRODUCER ${this.opts.topic}: connection to ${conn.remote} closed`);
    if (!this.name) {
      this.name = ps.producerName;
      this.builder = new EntryBuilder(this.batching, new TextEncoder().encode(this.name), this.producerId);
      this.builder.codec = this.codec;
      this.keyed?.rename(new TextEncoder().encode(this.name));
    }
    this.lastSequenceIdAtConnect = u64(ps.lastSequenceId, -1);
    if (this.epoch === 0 && this.lastSequenceIdAtConnect + 1 > this.nextSeq) this.nextSeq = this.lastSequenceIdAtConnect + 1;
    this.epoch++;
    this.maxMessageSize = conn.maxMessageSize - 1024;
    // Compressed, an entry may grow a little when the data does not compress.
    this.entryMaxBytes = Math.min(this.maxBytes, this.codec ? this.codec.maxInputFor(this.maxMessageSize) : this.maxMessageSize);
    this.conn = conn;
    this.state = 'ready';
    this.link.sessionStarted();
    // Resend in order. With deduplication the broker acknowledges what it already stored
    // without storing it again.
    for (let i = 0; i < this.pending.length; i++) {
      const e = this.pending.at(i)!;
      if (e.written) this.stats.resentEntries++;
      e.written = true;
      this.stats.entriesSent++;
      conn.write(e.frame);
    }
  }
}

function noop(): void {}

function positive(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 1) throw invalidError(`pulsar producer: ${what} must be a positive integer (got ${v})`);
  return v;
}
