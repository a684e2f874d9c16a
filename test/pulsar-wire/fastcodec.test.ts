/**
 * The hand-written hot-path protobuf (fastcodec.ts) against protobufjs reading the same
 * schema (pulsar-api.proto): what one writes the other must read, both ways.
 */
import { describe, expect, it } from 'vitest';
import {
  encodeAckCommand,
  MessageCommand,
  metadataSize,
  PbReader,
  readCommandHead,
  readMessageCommand,
  readMetadata,
  readSendReceipt,
  readSingleMetadata,
  ReceivedMetadata,
  SendReceipt,
  sendCommandSize,
  SingleMetadata,
  singleMetadataSize,
  varintSize,
  writeMetadata,
  writeSendCommand,
  writeSingleMetadata,
  writeVarint,
  type MetadataFields,
  type SendFields,
} from '../../src/adapters/pulsar/wire/fastcodec.ts';
import { schema, u64, type U64 } from '../../src/adapters/pulsar/wire/proto.ts';
import { hex, toHex } from './helpers.ts';

const T = (name: string) => schema.lookupType(`pulsar.proto.${name}`);
type Obj = Record<string, unknown>;
const decode = (name: string, b: Uint8Array): Obj => T(name).decode(b) as unknown as Obj;
const encode = (name: string, o: Obj): Uint8Array => T(name).encode(o).finish();

describe('varints', () => {
  it('encode like protobuf for the edges of each length', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [1, '01'],
      [127, '7f'],
      [128, '8001'],
      [300, 'ac02'],
      [16383, 'ff7f'],
      [16384, '808001'],
      [2 ** 31 - 1, 'ffffffff07'],
      [2 ** 31, '8080808008'],
      [2 ** 32, '8080808010'],
      [2 ** 53 - 1, 'ffffffffffffff0f'],
    ];
    for (const [v, h] of cases) {
      const buf = new Uint8Array(10);
      const end = writeVarint(buf, 0, v);
      expect(toHex(buf.subarray(0, end)), String(v)).toBe(h);
      expect(varintSize(v)).toBe(end);
      expect(new PbReader().reset(buf, 0, end).int()).toBe(v);
    }
  });

  it('read a uint64 with the top bit set as the negative int64 (the broker’s -1)', () => {
    expect(new PbReader().reset(hex('ff ff ff ff ff ff ff ff ff 01'), 0, 10).int()).toBe(-1);
    expect(new PbReader().reset(hex('fe ff ff ff ff ff ff ff ff 01'), 0, 10).int()).toBe(-2);
    expect(() => new PbReader().reset(hex('ff ff'), 0, 2).int()).toThrow(/truncated varint/);
  });
});

describe('hot-path encoders, read back by protobufjs', () => {
  it('CommandSend in BaseCommand', () => {
    for (const f of [
      { producerId: 0, sequenceId: 0, numMessages: 1, highestSequenceId: 0, batched: false, txn: null },
      { producerId: 3, sequenceId: 2 ** 35, numMessages: 1000, highestSequenceId: 2 ** 35 + 999, batched: true, txn: { mostBits: 1, leastBits: 77 } },
    ] satisfies SendFields[]) {
      const buf = new Uint8Array(sendCommandSize(f));
      expect(writeSendCommand(buf, 0, f)).toBe(buf.length);
      const cmd = decode('BaseCommand', buf) as { type: number; send: Obj };
      expect(cmd.type).toBe(6);
      const s = cmd.send;
      expect(u64(s.producerId as U64)).toBe(f.producerId);
      expect(u64(s.sequenceId as U64)).toBe(f.sequenceId);
      expect(s.numMessages).toBe(f.numMessages);
      expect(u64(s.highestSequenceId as U64)).toBe(f.batched ? f.highestSequenceId : 0);
      expect(u64(s.txnidLeastBits as U64)).toBe(f.txn?.leastBits ?? 0);
      expect(u64(s.txnidMostBits as U64)).toBe(f.txn?.mostBits ?? 0);
      expect(Object.prototype.hasOwnProperty.call(s, 'numMessages')).toBe(f.batched);
    }
  });

  it('MessageMetadata, with and without batch and transaction fields', () => {
    for (const f of [
      { producerName: new TextEncoder().encode('p-1'), sequenceId: 9, publishTime: 1_700_000_000_123, uncompressedSize: 512, numMessagesInBatch: -1, highestSequenceId: 9, txn: null },
      { producerName: new TextEncoder().encode('x'.repeat(200)), sequenceId: 0, publishTime: 1, uncompressedSize: 0, numMessagesInBatch: 1000, highestSequenceId: 999, txn: { mostBits: 5, leastBits: 2 ** 40 } },
    ] satisfies MetadataFields[]) {
      const buf = new Uint8Array(metadataSize(f));
      expect(writeMetadata(buf, 0, f)).toBe(buf.length);
      const m = decode('MessageMetadata', buf);
      expect(m.producerName).toBe(new TextDecoder().decode(f.producerName));
      expect(u64(m.sequenceId as U64)).toBe(f.sequenceId);
      expect(u64(m.publishTime as U64)).toBe(f.publishTime);
      expect(m.uncompressedSize).toBe(f.uncompressedSize);
      expect(Object.prototype.hasOwnProperty.call(m, 'numMessagesInBatch')).toBe(f.numMessagesInBatch >= 0);
      if (f.numMessagesInBatch >= 0) expect([m.numMessagesInBatch, u64(m.highestSequenceId as U64)]).toEqual([f.numMessagesInBatch, f.highestSequenceId]);
      expect(Object.prototype.hasOwnProperty.call(m, 'txnidLeastBits')).toBe(f.txn !== null);
      if (f.txn) expect([u64(m.txnidLeastBits as U64), u64(m.txnidMostBits as U64)]).toEqual([f.txn.leastBits, f.txn.mostBits]);
      // and our own reader agrees
      const r = readMetadata(new PbReader().reset(buf, 0, buf.length), new ReceivedMetadata());
      expect([r.sequenceId, r.publishTime, r.numMessagesInBatch, r.txnLeastBits, r.txnMostBits]).toEqual([f.sequenceId, f.publishTime, f.numMessagesInBatch, f.txn ? f.txn.leastBits : -1, f.txn ? f.txn.mostBits : -1]);
      expect(new TextDecoder().decode(buf.subarray(r.nameStart, r.nameEnd))).toBe(m.producerName);
    }
  });

  it('SingleMessageMetadata', () => {
    const buf = new Uint8Array(singleMetadataSize(512, 2 ** 33));
    writeSingleMetadata(buf, 0, 512, 2 ** 33);
    expect(toHex(buf)).toBe(toHex(encode('SingleMessageMetadata', { payloadSize: 512, sequenceId: 2 ** 33 })));
  });

  it('CommandAck with several ids, batch index, transaction and request id', () => {
    const ids = [
      { ledgerId: 10, entryId: 0, batchIndex: -1 },
      { ledgerId: 10, entryId: 2 ** 33, batchIndex: 5 },
    ];
    const cmd = decode('BaseCommand', encodeAckCommand(42, false, ids, 2, { mostBits: 3, leastBits: 4 }, 7)) as { type: number; ack: Obj };
    expect(cmd.type).toBe(10);
    const a = cmd.ack;
    expect([u64(a.consumerId as U64), a.ackType, u64(a.txnidLeastBits as U64), u64(a.txnidMostBits as U64), u64(a.requestId as U64)]).toEqual([42, 0, 4, 3, 7]);
    const mids = a.messageId as Obj[];
    expect(mids.map((m) => [u64(m.ledgerId as U64), u64(m.entryId as U64), m.batchIndex])).toEqual([
      [10, 0, -1],
      [10, 2 ** 33, 5],
    ]);
    const cum = decode('BaseCommand', encodeAckCommand(1, true, ids, 1, null, -1)) as { ack: Obj };
    expect(cum.ack.ackType).toBe(1);
    expect(Object.prototype.hasOwnProperty.call(cum.ack, 'requestId')).toBe(false);
  });
});

describe('hot-path decoders, reading what protobufjs writes', () => {
  it('CommandMessage with redelivery count, epoch, partition -1 and an ack set (packed or not)', () => {
    const bytes = encode('BaseCommand', {
      type: 9,
      message: { consumerId: 3, messageId: { ledgerId: 123, entryId: 456, partition: -1, batchIndex: -1 }, redeliveryCount: 2, ackSet: [5, -1], consumerEpoch: 4 },
    });
    const r = new PbReader().reset(bytes, 0, bytes.length);
    const head = readCommandHead(r, { type: 0, subStart: 0, subEnd: 0 });
    expect(head.type).toBe(9);
    const m = readMessageCommand(r.reset(bytes, head.subStart, head.subEnd), new MessageCommand());
    expect([m.consumerId, m.ledgerId, m.entryId, m.partition, m.redeliveryCount, m.consumerEpoch]).toEqual([3, 123, 456, -1, 2, 4]);
    // word 0 = 5 = bits 0 and 2; word 1 = all ones
    expect([0, 1, 2, 3, 63, 64, 127, 128].map((i) => m.wanted(i))).toEqual([true, false, true, false, false, true, true, false]);

    const packed = hex('08 01 | 12 04 08 01 10 02 | 22 02 03 00');
    const p = readMessageCommand(new PbReader().reset(packed, 0, packed.length), new MessageCommand());
    expect([p.ledgerId, p.entryId, p.ackSetWords, p.wanted(0), p.wanted(1), p.wanted(2), p.wanted(64)]).toEqual([1, 2, 2, true, true, false, false]);
  });

  it('CommandSendReceipt, including a duplicate’s -1:-1 id', () => {
    for (const [ledgerId, entryId] of [
      [7, 8],
      [-1, -1],
    ] as const) {
      const bytes = encode('BaseCommand', { type: 7, sendReceipt: { producerId: 2, sequenceId: 100, messageId: { ledgerId, entryId }, highestSequenceId: 199 } });
      const r = new PbReader().reset(bytes, 0, bytes.length);
      const head = readCommandHead(r, { type: 0, subStart: 0, subEnd: 0 });
      const s = readSendReceipt(r.reset(bytes, head.subStart, head.subEnd), new SendReceipt());
      expect([s.producerId, s.sequenceId, s.highestSequenceId, s.ledgerId, s.entryId]).toEqual([2, 100, 199, ledgerId, entryId]);
    }
  });

  it('MessageMetadata and SingleMessageMetadata fields, skipping ones it does not know', () => {
    const meta = encode('MessageMetadata', {
      producerName: 'abc',
      sequenceId: 5,
      publishTime: 99,
      properties: [{ key: 'k', value: 'v' }],
      partitionKey: 'pk',
      compression: 1,
      numMessagesInBatch: 10,
      eventTime: 3,
      markerType: 2,
      nullValue: true,
    });
    const m = readMetadata(new PbReader().reset(meta, 0, meta.length), new ReceivedMetadata());
    expect([m.sequenceId, m.publishTime, m.compression, m.numMessagesInBatch, m.markerType, m.nullValue]).toEqual([5, 99, 1, 10, 2, true]);
    const smm = encode('SingleMessageMetadata', { properties: [{ key: 'a', value: 'b' }], partitionKey: 'k', payloadSize: 77, compactedOut: true, eventTime: 1, sequenceId: 12, nullValue: true });
    const s = readSingleMetadata(new PbReader().reset(smm, 0, smm.length), new SingleMetadata());
    expect([s.payloadSize, s.sequenceId, s.compactedOut, s.nullValue]).toEqual([77, 12, true, true]);
  });
});
