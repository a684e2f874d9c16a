/**
 * Hand-written protobuf for the hot path: the commands and metadata that go with every
 * batch or message (CommandSend, MessageMetadata, SingleMessageMetadata, CommandAck on
 * the way out; CommandMessage, CommandSendReceipt, MessageMetadata, SingleMessageMetadata
 * on the way in).
 *
 * protobufjs would allocate a message object (and Long objects for every uint64) per
 * message; these functions write straight into the frame being built and read into
 * caller-owned structs that are reused, so a message costs no allocation here. They
 * follow the field numbers of pulsar-api.proto; fastcodec.test.ts checks both agree.
 *
 * Numbers: uint64 fields are JS numbers. Ledger, entry and sequence ids stay far below
 * 2^53; a uint64 whose top bit is set reads as a negative number, which is how the
 * broker's -1 ("no id", e.g. a deduplicated send's receipt) arrives.
 */
import { protocolError } from './errors.ts';

// ---------------------------------------------------------------- writing

/** Bytes of the varint of a non-negative integer below 2^63. */
export function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  if (v < 0x800000000) return 5;
  if (v < 0x40000000000) return 6;
  if (v < 0x2000000000000) return 7;
  if (v < 0x100000000000000) return 8;
  return 9;
}

/** Writes the varint of a non-negative integer (a safe integer) at `pos`; returns the end. */
export function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v > 0x7fffffff) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** Writes a length-delimited field's length and bytes at `pos`; returns the end. */
function writeBytes(buf: Uint8Array, pos: number, bytes: Uint8Array): number {
  pos = writeVarint(buf, pos, bytes.length);
  buf.set(bytes, pos);
  return pos + bytes.length;
}

/** A transaction id: the coordinator's id in the high half, a sequence in the low half. */
export interface TxnId {
  mostBits: number;
  leastBits: number;
}

/** What a CommandSend carries besides the producer id. */
export interface SendFields {
  producerId: number;
  sequenceId: number;
  /** messages in the entry; >1 or batched entries set num_messages and highest_sequence_id */
  numMessages: number;
  highestSequenceId: number;
  batched: boolean;
  txn: TxnId | null;
}

function sendInnerSize(f: SendFields): number {
  let n = 1 + varintSize(f.producerId) + 1 + varintSize(f.sequenceId);
  if (f.batched) n += 1 + varintSize(f.numMessages) + 1 + varintSize(f.highestSequenceId);
  if (f.txn) n += 1 + varintSize(f.txn.leastBits) + 1 + varintSize(f.txn.mostBits);
  return n;
}

/** Size of BaseCommand{type: SEND, send: CommandSend}. */
export function sendCommandSize(f: SendFields): number {
  const inner = sendInnerSize(f);
  return 2 + 1 + varintSize(inner) + inner;
}

/** Writes BaseCommand{type: SEND (6), send (field 6): CommandSend}; returns the end. */
export function writeSendCommand(buf: Uint8Array, pos: number, f: SendFields): number {
  buf[pos++] = 0x08; // BaseCommand.type, varint
  buf[pos++] = 6; // SEND
  buf[pos++] = 0x32; // BaseCommand.send = 6, length-delimited
  pos = writeVarint(buf, pos, sendInnerSize(f));
  buf[pos++] = 0x08; // producer_id = 1
  pos = writeVarint(buf, pos, f.producerId);
  buf[pos++] = 0x10; // sequence_id = 2
  pos = writeVarint(buf, pos, f.sequenceId);
  if (f.batched) {
    buf[pos++] = 0x18; // num_messages = 3
    pos = writeVarint(buf, pos, f.numMessages);
  }
  if (f.txn) {
    buf[pos++] = 0x20; // txnid_least_bits = 4
    pos = writeVarint(buf, pos, f.txn.leastBits);
    buf[pos++] = 0x28; // txnid_most_bits = 5
    pos = writeVarint(buf, pos, f.txn.mostBits);
  }
  if (f.batched) {
    buf[pos++] = 0x30; // highest_sequence_id = 6
    pos = writeVarint(buf, pos, f.highestSequenceId);
  }
  return pos;
}

/** What MessageMetadata carries for one entry we publish. */
export interface MetadataFields {
  /** UTF-8 bytes of the producer name (encoded once per producer) */
  producerName: Uint8Array;
  sequenceId: number;
  publishTime: number;
  /** CompressionType of the payload; absent or 0: none (the field is then left out) */
  compression?: number;
  uncompressedSize: number;
  /** -1: not a batch (payload is the message itself); otherwise messages in the batch */
  numMessagesInBatch: number;
  highestSequenceId: number;
  txn: TxnId | null;
  /** UTF-8 bytes of the entry's key (partition_key): what a Key_Shared subscription dispatches by */
  partitionKey?: Uint8Array | null;
}

export function metadataSize(f: MetadataFields): number {
  const name = f.producerName.length;
  let n = 1 + varintSize(name) + name + 1 + varintSize(f.sequenceId) + 1 + varintSize(f.publishTime) + 1 + varintSize(f.uncompressedSize);
  if (f.compression) n += 1 + varintSize(f.compression);
  if (f.numMessagesInBatch >= 0) n += 1 + varintSize(f.numMessagesInBatch) + 2 + varintSize(f.highestSequenceId);
  if (f.txn) n += 2 + varintSize(f.txn.leastBits) + 2 + varintSize(f.txn.mostBits);
  if (f.partitionKey) n += 1 + varintSize(f.partitionKey.length) + f.partitionKey.length;
  return n;
}

/** Writes MessageMetadata (fields in number order, as Pulsar's own clients do). */
export function writeMetadata(buf: Uint8Array, pos: number, f: MetadataFields): number {
  buf[pos++] = 0x0a; // producer_name = 1, length-delimited
  pos = writeVarint(buf, pos, f.producerName.length);
  buf.set(f.producerName, pos);
  pos += f.producerName.length;
  buf[pos++] = 0x10; // sequence_id = 2
  pos = writeVarint(buf, pos, f.sequenceId);
  buf[pos++] = 0x18; // publish_time = 3
  pos = writeVarint(buf, pos, f.publishTime);
  if (f.partitionKey) {
    buf[pos++] = 0x32; // partition_key = 6, length-delimited
    pos = writeBytes(buf, pos, f.partitionKey);
  }
  if (f.compression) {
    buf[pos++] = 0x40; // compression = 8
    pos = writeVarint(buf, pos, f.compression);
  }
  buf[pos++] = 0x48; // uncompressed_size = 9
  pos = writeVarint(buf, pos, f.uncompressedSize);
  if (f.numMessagesInBatch >= 0) {
    buf[pos++] = 0x58; // num_messages_in_batch = 11
    pos = writeVarint(buf, pos, f.numMessagesInBatch);
  }
  if (f.txn) {
    buf[pos++] = 0xb0; // txnid_least_bits = 22: tag 176 = varint b0 01
    buf[pos++] = 0x01;
    pos = writeVarint(buf, pos, f.txn.leastBits);
    buf[pos++] = 0xb8; // txnid_most_bits = 23: tag 184
    buf[pos++] = 0x01;
    pos = writeVarint(buf, pos, f.txn.mostBits);
  }
  if (f.numMessagesInBatch >= 0) {
    buf[pos++] = 0xc0; // highest_sequence_id = 24: tag 192
    buf[pos++] = 0x01;
    pos = writeVarint(buf, pos, f.highestSequenceId);
  }
  return pos;
}

/** Size of SingleMessageMetadata{payload_size, sequence_id} (without its 4-byte length prefix). */
export function singleMetadataSize(payloadSize: number, sequenceId: number, key: Uint8Array | null = null): number {
  return (key ? 1 + varintSize(key.length) + key.length : 0) + 1 + varintSize(payloadSize) + 1 + varintSize(sequenceId);
}

/** Writes SingleMessageMetadata{partition_key = 2 (with a key), payload_size = 3, sequence_id = 8}; returns the end. */
export function writeSingleMetadata(buf: Uint8Array, pos: number, payloadSize: number, sequenceId: number, key: Uint8Array | null = null): number {
  if (key) {
    buf[pos++] = 0x12;
    pos = writeBytes(buf, pos, key);
  }
  buf[pos++] = 0x18;
  pos = writeVarint(buf, pos, payloadSize);
  buf[pos++] = 0x40;
  return writeVarint(buf, pos, sequenceId);
}

/** One message id to acknowledge: an entry, or one message of a batch entry. */
export interface AckId {
  ledgerId: number;
  entryId: number;
  /** -1: the whole entry */
  batchIndex: number;
}

function messageIdSize(id: AckId): number {
  let n = 1 + varintSize(id.ledgerId) + 1 + varintSize(id.entryId);
  if (id.batchIndex >= 0) n += 1 + varintSize(id.batchIndex);
  return n;
}

/**
 * BaseCommand{type: ACK (10), ack (field 10)} for `count` ids of `ids`. `requestId` >= 0
 * asks for a CommandAckResponse (what transactional acks need).
 */
export function encodeAckCommand(consumerId: number, cumulative: boolean, ids: readonly AckId[], count: number, txn: TxnId | null, requestId: number): Uint8Array {
  let inner = 1 + varintSize(consumerId) + 2;
  for (let i = 0; i < count; i++) {
    const s = messageIdSize(ids[i]!);
    inner += 1 + varintSize(s) + s;
  }
  if (txn) inner += 1 + varintSize(txn.leastBits) + 1 + varintSize(txn.mostBits);
  if (requestId >= 0) inner += 1 + varintSize(requestId);
  const buf = new Uint8Array(3 + varintSize(inner) + inner);
  let pos = 0;
  buf[pos++] = 0x08;
  buf[pos++] = 10; // ACK
  buf[pos++] = 0x52; // BaseCommand.ack = 10, length-delimited
  pos = writeVarint(buf, pos, inner);
  buf[pos++] = 0x08; // consumer_id = 1
  pos = writeVarint(buf, pos, consumerId);
  buf[pos++] = 0x10; // ack_type = 2
  buf[pos++] = cumulative ? 1 : 0;
  for (let i = 0; i < count; i++) {
    const id = ids[i]!;
    buf[pos++] = 0x1a; // message_id = 3, length-delimited
    pos = writeVarint(buf, pos, messageIdSize(id));
    buf[pos++] = 0x08; // ledgerId = 1
    pos = writeVarint(buf, pos, id.ledgerId);
    buf[pos++] = 0x10; // entryId = 2
    pos = writeVarint(buf, pos, id.entryId);
    if (id.batchIndex >= 0) {
      buf[pos++] = 0x20; // batch_index = 4
      pos = writeVarint(buf, pos, id.batchIndex);
    }
  }
  if (txn) {
    buf[pos++] = 0x30; // txnid_least_bits = 6
    pos = writeVarint(buf, pos, txn.leastBits);
    buf[pos++] = 0x38; // txnid_most_bits = 7
    pos = writeVarint(buf, pos, txn.mostBits);
  }
  if (requestId >= 0) {
    buf[pos++] = 0x40; // request_id = 8
    pos = writeVarint(buf, pos, requestId);
  }
  return buf;
}

// ---------------------------------------------------------------- reading

/** A cursor over protobuf bytes; one per connection, reset for each message read. */
export class PbReader {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;
  /** halves of the last varint read by varint64() */
  lo = 0;
  hi = 0;

  reset(buf: Uint8Array, start: number, end: number): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  /** Reads a varint into lo/hi (unsigned 32-bit halves). */
  varint64(): void {
    const b = this.buf;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    let byte: number;
    // low 28 bits
    for (; shift < 28; shift += 7) {
      byte = this.byte(b);
      lo |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.lo = lo >>> 0;
        this.hi = 0;
        return;
      }
    }
    // bits 28..34 straddle the halves
    byte = this.byte(b);
    lo |= (byte & 0x7f) << 28;
    hi = (byte & 0x7f) >>> 4;
    if (byte >= 0x80) {
      for (shift = 3; shift < 32; shift += 7) {
        byte = this.byte(b);
        hi |= (byte & 0x7f) << shift;
        if (byte < 0x80) break;
      }
      if (byte >= 0x80) throw protocolError('malformed varint (more than 10 bytes)');
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** A varint as a number: exact below 2^53; with the top bit set, the negative int64. */
  int(): number {
    this.varint64();
    const hi = this.hi;
    if (hi === 0) return this.lo;
    if (hi & 0x80000000) return -((~hi >>> 0) * 4294967296 + (~this.lo >>> 0) + 1);
    return hi * 4294967296 + this.lo;
  }

  /** Length of a length-delimited field, checked against the end. */
  len(): number {
    const n = this.int();
    if (n < 0 || this.pos + n > this.end) throw protocolError(`length-delimited field of ${n} bytes overruns its message`);
    return n;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint64();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2: {
        // (not `this.pos += this.len()`: that would add to pos as it was before the length)
        const n = this.len();
        this.pos += n;
        return;
      }
      case 5:
        this.pos += 4;
        break;
      default:
        throw protocolError(`unsupported protobuf wire type ${wireType}`);
    }
    if (this.pos > this.end) throw protocolError('field overruns its message');
  }

  private byte(b: Uint8Array): number {
    if (this.pos >= this.end) throw protocolError('truncated varint');
    return b[this.pos++]!;
  }
}

/** The outer BaseCommand: its type and where its one sub-command lies. */
export interface CommandHead {
  type: number;
  subStart: number;
  subEnd: number;
}

/** Reads BaseCommand's type (field 1) and the bounds of the sub-command field. */
export function readCommandHead(r: PbReader, out: CommandHead): CommandHead {
  out.type = -1;
  out.subStart = out.subEnd = -1;
  while (r.pos < r.end) {
    const tag = r.int();
    if (tag === 0x08) out.type = r.int();
    else if ((tag & 7) === 2 && out.subStart < 0) {
      const n = r.len();
      out.subStart = r.pos;
      out.subEnd = r.pos + n;
      r.pos += n;
    } else r.skip(tag & 7);
  }
  if (out.type < 0) throw protocolError('command without a type');
  return out;
}

/** Fields of CommandMessage, filled in place. */
export class MessageCommand {
  consumerId = 0;
  ledgerId = 0;
  entryId = 0;
  partition = -1;
  batchIndex = -1;
  redeliveryCount = 0;
  /** -1 when absent */
  consumerEpoch = -1;
  /** words of ack_set (bit set = still to deliver), as unsigned 32-bit halves */
  readonly ackSetLo: number[] = [];
  readonly ackSetHi: number[] = [];
  ackSetWords = 0;

  /** Whether message `i` of the batch is still unacknowledged (true without an ack_set). */
  wanted(i: number): boolean {
    if (this.ackSetWords === 0) return true;
    const w = i >>> 6;
    if (w >= this.ackSetWords) return false;
    const bit = i & 63;
    return bit < 32 ? ((this.ackSetLo[w]! >>> bit) & 1) === 1 : ((this.ackSetHi[w]! >>> (bit - 32)) & 1) === 1;
  }
}

export function readMessageCommand(r: PbReader, out: MessageCommand): MessageCommand {
  out.partition = out.batchIndex = out.consumerEpoch = -1;
  out.redeliveryCount = 0;
  out.ackSetWords = 0;
  while (r.pos < r.end) {
    const tag = r.int();
    switch (tag) {
      case 0x08: // consumer_id
        out.consumerId = r.int();
        break;
      case 0x12: {
        // message_id
        const n = r.len();
        const end = r.pos + n;
        const outer = r.end;
        r.end = end;
        readMessageIdInto(r, out);
        r.end = outer;
        break;
      }
      case 0x18:
        out.redeliveryCount = r.int();
        break;
      case 0x20: // ack_set, unpacked
        pushAckWord(r, out);
        break;
      case 0x22: {
        // ack_set, packed
        const n = r.len();
        const end = r.pos + n;
        while (r.pos < end) pushAckWord(r, out);
        break;
      }
      case 0x28:
        out.consumerEpoch = r.int();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return out;
}

function pushAckWord(r: PbReader, out: MessageCommand): void {
  r.varint64();
  out.ackSetLo[out.ackSetWords] = r.lo;
  out.ackSetHi[out.ackSetWords] = r.hi;
  out.ackSetWords++;
}

interface IdTarget {
  ledgerId: number;
  entryId: number;
  partition: number;
  batchIndex: number;
}

function readMessageIdInto(r: PbReader, out: IdTarget): void {
  while (r.pos < r.end) {
    const tag = r.int();
    if (tag === 0x08) out.ledgerId = r.int();
    else if (tag === 0x10) out.entryId = r.int();
    else if (tag === 0x18) out.partition = r.int();
    else if (tag === 0x20) out.batchIndex = r.int();
    else r.skip(tag & 7);
  }
}

/** Fields of CommandSendReceipt, filled in place. */
export class SendReceipt {
  producerId = 0;
  sequenceId = 0;
  highestSequenceId = 0;
  ledgerId = -1;
  entryId = -1;
  partition = -1;
  batchIndex = -1;
}

export function readSendReceipt(r: PbReader, out: SendReceipt): SendReceipt {
  out.highestSequenceId = 0;
  out.ledgerId = out.entryId = out.partition = out.batchIndex = -1;
  while (r.pos < r.end) {
    const tag = r.int();
    if (tag === 0x08) out.producerId = r.int();
    else if (tag === 0x10) out.sequenceId = r.int();
    else if (tag === 0x20) out.highestSequenceId = r.int();
    else if (tag === 0x1a) {
      const n = r.len();
      const end = r.pos + n;
      const outer = r.end;
      r.end = end;
      readMessageIdInto(r, out);
      r.end = outer;
    } else r.skip(tag & 7);
  }
  return out;
}

/** Fields of a received entry's MessageMetadata, filled in place. */
export class ReceivedMetadata {
  /** producer_name as bytes [nameStart, nameEnd) of the buffer last read */
  nameStart = 0;
  nameEnd = 0;
  sequenceId = 0;
  publishTime = 0;
  compression = 0;
  uncompressedSize = 0;
  /** -1 when absent: the payload is one message, not a batch */
  numMessagesInBatch = -1;
  highestSequenceId = 0;
  nullValue = false;
  /** -1 when absent */
  markerType = -1;
  txnLeastBits = -1;
  txnMostBits = -1;
}

export function readMetadata(r: PbReader, out: ReceivedMetadata): ReceivedMetadata {
  out.nameStart = out.nameEnd = 0;
  out.sequenceId = out.publishTime = out.compression = out.uncompressedSize = out.highestSequenceId = 0;
  out.numMessagesInBatch = out.markerType = out.txnLeastBits = out.txnMostBits = -1;
  out.nullValue = false;
  while (r.pos < r.end) {
    const tag = r.int();
    switch (tag) {
      case 0x0a: {
        const n = r.len();
        out.nameStart = r.pos;
        out.nameEnd = r.pos + n;
        r.pos += n;
        break;
      }
      case 0x10:
        out.sequenceId = r.int();
        break;
      case 0x18:
        out.publishTime = r.int();
        break;
      case 0x40:
        out.compression = r.int();
        break;
      case 0x48:
        out.uncompressedSize = r.int();
        break;
      case 0x58:
        out.numMessagesInBatch = r.int();
        break;
      case 0xa0: // marker_type = 20 (tag 160)
        out.markerType = r.int();
        break;
      case 0xb0:
        out.txnLeastBits = r.int();
        break;
      case 0xb8:
        out.txnMostBits = r.int();
        break;
      case 0xc0:
        out.highestSequenceId = r.int();
        break;
      case 0xc8: // null_value = 25 (tag 200)
        out.nullValue = r.int() !== 0;
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return out;
}

/** Fields of one SingleMessageMetadata in a batch, filled in place. */
export class SingleMetadata {
  payloadSize = -1;
  /** -1 when absent */
  sequenceId = -1;
  compactedOut = false;
  nullValue = false;
}

export function readSingleMetadata(r: PbReader, out: SingleMetadata): SingleMetadata {
  out.payloadSize = out.sequenceId = -1;
  out.compactedOut = out.nullValue = false;
  while (r.pos < r.end) {
    const tag = r.int();
    if (tag === 0x18) out.payloadSize = r.int();
    else if (tag === 0x40) out.sequenceId = r.int();
    else if (tag === 0x20) out.compactedOut = r.int() !== 0;
    else if (tag === 0x48) out.nullValue = r.int() !== 0;
    else r.skip(tag & 7);
  }
  if (out.payloadSize < 0) throw protocolError('SingleMessageMetadata without payload_size');
  return out;
}
