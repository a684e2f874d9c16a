/**
 * Batch entries against a vector built by hand from the protocol description: per message
 * [u32 size][SingleMessageMetadata][bytes], and MessageMetadata with num_messages_in_batch
 * and highest_sequence_id; CommandSend with num_messages and highest_sequence_id.
 */
import { describe, expect, it } from 'vitest';
import { EntryBuilder, splitBatch } from '../../src/adapters/pulsar/wire/batch.ts';
import { PbReader } from '../../src/adapters/pulsar/wire/fastcodec.ts';
import { parseFrame } from '../../src/adapters/pulsar/wire/framing.ts';
import { schema, u64, type U64 } from '../../src/adapters/pulsar/wire/proto.ts';
import { bitwiseCrc32c, concat, hex, toHex, u32 } from './helpers.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

// Two messages, "ab" (sequence 5) and "c" (sequence 6), from producer 1 named "p", at 1000.
// CommandSend{producer_id 1, sequence_id 5, num_messages 2, highest_sequence_id 6}
const CMD = hex('08 06 | 32 08 | 08 01 10 05 18 02 30 06');
// SingleMessageMetadata{payload_size (3) 2, sequence_id (8) 5} and {1, 6}
const SMM1 = hex('18 02 40 05');
const SMM2 = hex('18 01 40 06');
const PAYLOAD = concat(u32(4), SMM1, enc('ab'), u32(4), SMM2, enc('c'));
// MessageMetadata{producer_name "p", sequence_id 5, publish_time 1000, uncompressed_size 19,
//   num_messages_in_batch (11) 2, highest_sequence_id (24, tag 192 = c0 01) 6}
const META = hex('0a 01 70 | 10 05 | 18 e8 07 | 48 13 | 58 02 | c0 01 06');

function handBatchFrame(): Uint8Array {
  const covered = concat(u32(META.length), META, PAYLOAD);
  const rest = concat(u32(CMD.length), CMD, hex('0e 01'), u32(bitwiseCrc32c(covered)), covered);
  return concat(u32(rest.length), rest);
}

describe('batch entries', () => {
  it('are written byte for byte as the hand-built vector', () => {
    expect(PAYLOAD.length).toBe(19);
    const b = new EntryBuilder(true, enc('p'), 1);
    b.add(enc('xaby'), 1, 2, 5); // a slice of a larger buffer, as the harness hands them
    b.add(enc('c'), 0, 1, 6);
    const entry = b.finish(1000);
    expect(toHex(entry.frame)).toBe(toHex(handBatchFrame()));
    expect(entry).toMatchObject({ firstSeq: 5, lastSeq: 6, count: 2, payloadBytes: 19 });
  });

  it('carry metadata that protobufjs (our .proto) reads the same way', () => {
    const b = new EntryBuilder(true, enc('producer-é'), 7);
    for (let i = 0; i < 3; i++) b.add(enc(`m${i}`), 0, 2, 2 ** 40 + i);
    const f = parseFrame(b.finish(1_700_000_000_000).frame.subarray(4));
    const cmd = schema.lookupType('pulsar.proto.BaseCommand').decode(f.buf.subarray(f.commandStart, f.commandEnd)) as unknown as {
      type: number;
      send: { producerId: U64; sequenceId: U64; numMessages: number; highestSequenceId: U64 };
    };
    expect(cmd.type).toBe(6);
    expect([u64(cmd.send.producerId), u64(cmd.send.sequenceId), cmd.send.numMessages, u64(cmd.send.highestSequenceId)]).toEqual([7, 2 ** 40, 3, 2 ** 40 + 2]);
    const meta = schema.lookupType('pulsar.proto.MessageMetadata').decode(f.buf.subarray(f.metadataStart, f.metadataEnd)) as unknown as Record<string, U64 | string | number>;
    expect(meta.producerName).toBe('producer-é');
    expect(u64(meta.sequenceId as U64)).toBe(2 ** 40);
    expect(u64(meta.publishTime as U64)).toBe(1_700_000_000_000);
    expect(meta.numMessagesInBatch).toBe(3);
    expect(u64(meta.highestSequenceId as U64)).toBe(2 ** 40 + 2);
    expect(meta.uncompressedSize).toBe(f.payloadEnd - f.payloadStart);
    expect(f.checksumOk()).toBe(true);
  });

  it('split back into their messages with sizes and sequence ids', () => {
    const f = parseFrame(handBatchFrame().subarray(4));
    const offsets = new Int32Array(2);
    const lengths = new Int32Array(2);
    const seqs = new Float64Array(2);
    splitBatch(new PbReader(), f.buf, f.payloadStart, f.payloadEnd, 2, offsets, lengths, seqs);
    const msgs = [0, 1].map((i) => new TextDecoder().decode(f.buf.subarray(offsets[i]!, offsets[i]! + lengths[i]!)));
    expect(msgs).toEqual(['ab', 'c']);
    expect([...seqs]).toEqual([5, 6]);
  });

  it('mark compacted-out messages and reject a batch shorter than announced', () => {
    // {payload_size 1, compacted_out true} then {payload_size 1}
    const payload = concat(u32(4), hex('18 01 20 01'), enc('x'), u32(2), hex('18 01'), enc('y'));
    const offsets = new Int32Array(3);
    const lengths = new Int32Array(3);
    const seqs = new Float64Array(3);
    splitBatch(new PbReader(), payload, 0, payload.length, 2, offsets, lengths, seqs);
    expect([lengths[0], lengths[1]]).toEqual([-1, 1]);
    expect([seqs[0], seqs[1]]).toEqual([-1, -1]);
    expect(() => splitBatch(new PbReader(), payload, 0, payload.length, 3, offsets, lengths, seqs)).toThrow(/ends after 2 of 3/);
  });

  it('grow past the builder’s initial capacity and start empty after finish', () => {
    const b = new EntryBuilder(true, enc('p'), 1, 16);
    const big = new Uint8Array(1000).fill(9);
    for (let i = 0; i < 5; i++) b.add(big, 0, 1000, i);
    const e = b.finish(1);
    expect(e.count).toBe(5);
    expect(b.count).toBe(0);
    expect(b.size).toBe(0);
    const f = parseFrame(e.frame.subarray(4));
    expect(f.payloadEnd - f.payloadStart).toBe(5 * (4 + 5 + 1000)); // smm: 18 e8 07 40 nn
    expect(f.checksumOk()).toBe(true);
  });
});
