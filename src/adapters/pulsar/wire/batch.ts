/**
 * Entries as the producer writes them and the consumer reads them.
 *
 * A batch entry's payload is, per message,
 *   [SingleMessageMetadata size u32][SingleMessageMetadata][message bytes]
 * and its MessageMetadata says num_messages_in_batch. A non-batched entry's payload is
 * the message itself and its metadata has no num_messages_in_batch.
 *
 * The producer appends messages into one reusable scratch buffer (one copy of each
 * message, the harness reuses its own buffer) and `finish` writes the whole SEND frame
 * into one exact-size buffer: no per-message allocation, one per entry.
 */
import { crc32c } from './crc32c.ts';
import { MAGIC_CRC32C, readU32, writeU32 } from './framing.ts';
import {
  metadataSize,
  PbReader,
  readSingleMetadata,
  sendCommandSize,
  SingleMetadata,
  singleMetadataSize,
  writeMetadata,
  writeSendCommand,
  writeSingleMetadata,
  type MetadataFields,
  type SendFields,
  type TxnId,
} from './fastcodec.ts';
import { protocolError } from './errors.ts';
import type { Codec } from './compression.ts';

/** One SEND frame with what the producer needs to match its receipt. */
export interface BuiltEntry {
  frame: Uint8Array;
  firstSeq: number;
  lastSeq: number;
  count: number;
  /** payload bytes (messages plus their SingleMessageMetadata) */
  payloadBytes: number;
  /**
   * A key-based entry's sequences, ascending, when they are not firstSeq..lastSeq (see
   * key-batch.ts); firstSeq is then the sequence id it is sent with, its highest.
   */
  seqs?: number[];
}

export class EntryBuilder {
  private scratch: Uint8Array;
  private len = 0;
  count = 0;
  firstSeq = -1;
  lastSeq = -1;
  txn: TxnId | null = null;
  /** compresses each entry's whole payload (null: none); uncompressed_size says what it was */
  codec: Codec | null = null;
  /** the key of every message of the entry (partition_key), or none */
  key: Uint8Array | null = null;
  private readonly send: SendFields = { producerId: 0, sequenceId: 0, numMessages: 0, highestSequenceId: 0, batched: false, txn: null };
  private readonly meta: MetadataFields;

  /**
   * @param batched  batch container (any number of messages) or one plain message
   * @param producerName  UTF-8 bytes of the producer's name
   */
  constructor(
    readonly batched: boolean,
    producerName: Uint8Array,
    producerId: number,
    initialCapacity = 64 * 1024,
  ) {
    this.scratch = new Uint8Array(initialCapacity);
    this.send.producerId = producerId;
    this.send.batched = batched;
    this.meta = { producerName, sequenceId: 0, publishTime: 0, uncompressedSize: 0, numMessagesInBatch: -1, highestSequenceId: 0, txn: null };
  }

  /** payload bytes so far */
  get size(): number {
    return this.len;
  }

  /** payload bytes that adding a message of `n` bytes with sequence `seq` costs */
  static costOf(batched: boolean, n: number, seq: number, key: Uint8Array | null = null): number {
    return batched ? 4 + singleMetadataSize(n, seq, key) + n : n;
  }

  /** Appends a copy of src[off, off+n) with sequence id `seq`. */
  add(src: Uint8Array, off: number, n: number, seq: number): void {
    if (!this.batched && this.count > 0) throw new Error('EntryBuilder: a non-batched entry holds one message');
    const need = EntryBuilder.costOf(this.batched, n, seq, this.key);
    this.ensure(this.len + need);
    const buf = this.scratch;
    let pos = this.len;
    if (this.batched) {
      const smm = singleMetadataSize(n, seq, this.key);
      writeU32(buf, pos, smm);
      pos = writeSingleMetadata(buf, pos + 4, n, seq, this.key);
    }
    buf.set(n === src.length && off === 0 ? src : src.subarray(off, off + n), pos);
    this.len = pos + n;
    if (this.count === 0) this.firstSeq = seq;
    this.lastSeq = seq;
    this.count++;
  }

  /** Writes the SEND frame for what was added and empties the builder. */
  finish(publishTime: number): BuiltEntry {
    if (this.count === 0) throw new Error('EntryBuilder: finish() of an empty entry');
    const send = this.send;
    send.sequenceId = this.firstSeq;
    send.numMessages = this.count;
    send.highestSequenceId = this.lastSeq;
    send.txn = this.txn;
    const meta = this.meta;
    meta.sequenceId = this.firstSeq;
    meta.publishTime = publishTime;
    meta.uncompressedSize = this.len;
    meta.numMessagesInBatch = this.batched ? this.count : -1;
    meta.highestSequenceId = this.lastSeq;
    meta.txn = this.txn;
    const raw = this.scratch.subarray(0, this.len);
    const payload = this.codec ? this.codec.compress(raw) : raw;
    meta.compression = this.codec ? this.codec.type : 0;
    meta.partitionKey = this.key;

    const cmdLen = sendCommandSize(send);
    const metaLen = metadataSize(meta);
    const total = 4 + cmdLen + 2 + 4 + 4 + metaLen + payload.length;
    const frame = allocFrame(4 + total);
    writeU32(frame, 0, total);
    writeU32(frame, 4, cmdLen);
    let pos = writeSendCommand(frame, 8, send);
    frame[pos++] = MAGIC_CRC32C >>> 8;
    frame[pos++] = MAGIC_CRC32C & 0xff;
    const crcAt = pos;
    pos += 4;
    writeU32(frame, pos, metaLen);
    pos = writeMetadata(frame, pos + 4, meta);
    frame.set(payload, pos);
    writeU32(frame, crcAt, crc32c(frame, crcAt + 4, frame.length));

    const built: BuiltEntry = { frame, firstSeq: this.firstSeq, lastSeq: this.lastSeq, count: this.count, payloadBytes: this.len };
    this.len = 0;
    this.count = 0;
    this.firstSeq = this.lastSeq = -1;
    this.txn = null;
    this.key = null;
    return built;
  }

  private ensure(capacity: number): void {
    if (capacity <= this.scratch.length) return;
    let size = this.scratch.length * 2;
    while (size < capacity) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.scratch.subarray(0, this.len));
    this.scratch = next;
  }
}

/** Buffer.allocUnsafe: the whole frame is written before use, so zeroing is wasted work. */
function allocFrame(n: number): Uint8Array {
  return Buffer.allocUnsafe(n);
}

/**
 * Locates the messages of a batch payload buf[start, end): message i is
 * buf[offsets[i], offsets[i] + lengths[i]), its sequence id seqs[i] (-1 if the producer
 * set none). Compacted-out messages get length -1 (the caller skips them). Returns the
 * number of messages found, which must be `count`.
 */
export function splitBatch(
  r: PbReader,
  buf: Uint8Array,
  start: number,
  end: number,
  count: number,
  offsets: Int32Array,
  lengths: Int32Array,
  seqs: Float64Array,
  smm: SingleMetadata = new SingleMetadata(),
): number {
  let pos = start;
  for (let i = 0; i < count; i++) {
    if (pos + 4 > end) throw protocolError(`batch payload ends after ${i} of ${count} messages`);
    const smmSize = readU32(buf, pos);
    const smmStart = pos + 4;
    const smmEnd = smmStart + smmSize;
    if (smmEnd > end) throw protocolError(`SingleMessageMetadata of message ${i} overruns the batch`);
    readSingleMetadata(r.reset(buf, smmStart, smmEnd), smm);
    const payloadEnd = smmEnd + smm.payloadSize;
    if (payloadEnd > end) throw protocolError(`message ${i} of the batch overruns it (${smm.payloadSize} bytes)`);
    offsets[i] = smmEnd;
    lengths[i] = smm.compactedOut ? -1 : smm.nullValue ? 0 : smm.payloadSize;
    seqs[i] = smm.sequenceId;
    pos = payloadEnd;
  }
  return count;
}
