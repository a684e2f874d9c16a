/**
 * Frames against byte vectors written by hand from the protocol description: sizes are
 * big-endian u32, totalSize counts everything after itself, payload frames carry magic
 * 0x0e01 and a CRC32C of [metadataSize][metadata][payload]. Checksums in the expected
 * bytes come from the bit-at-a-time reference in helpers.ts, not from the code under test.
 */
import { describe, expect, it } from 'vitest';
import { EntryBuilder } from '../../src/adapters/pulsar/wire/batch.ts';
import { encodePayloadFrame, encodeSimpleFrame, FrameReader, parseFrame } from '../../src/adapters/pulsar/wire/framing.ts';
import { Cmd, encodeCommand } from '../../src/adapters/pulsar/wire/proto.ts';
import { PulsarWireError } from '../../src/adapters/pulsar/wire/errors.ts';
import { bitwiseCrc32c, concat, hex, toHex, u32 } from './helpers.ts';

// BaseCommand{type: PING (18), ping (field 18): {}}: tag 18<<3|2 = 146 = varint 92 01, length 0.
const PING_CMD = hex('08 12 | 92 01 00');

// BaseCommand{type: SEND (6), send (field 6, tag 0x32): {producer_id 1, sequence_id 2}}
const SEND_CMD = hex('08 06 | 32 04 | 08 01 10 02');
// MessageMetadata{producer_name "p", sequence_id 2, publish_time 1000 (e8 07), uncompressed_size 3}
const META = hex('0a 01 70 | 10 02 | 18 e8 07 | 48 03');
const PAYLOAD = new TextEncoder().encode('abc');

/** The SEND frame for the above, assembled by hand. */
function handSendFrame(): Uint8Array {
  const covered = concat(u32(META.length), META, PAYLOAD);
  const afterTotal = concat(u32(SEND_CMD.length), SEND_CMD, hex('0e 01'), u32(bitwiseCrc32c(covered)), covered);
  return concat(u32(afterTotal.length), afterTotal);
}

describe('simple frames', () => {
  it('are [totalSize = 4 + commandSize][commandSize][command]', () => {
    const frame = encodeSimpleFrame(encodeCommand({ type: Cmd.PING, ping: {} }));
    expect(toHex(frame)).toBe(toHex(concat(hex('00 00 00 09'), hex('00 00 00 05'), PING_CMD)));
  });

  it('parse back into their command, without payload', () => {
    const frame = encodeSimpleFrame(PING_CMD);
    const f = parseFrame(frame.subarray(4));
    expect(f.hasPayload).toBe(false);
    expect(toHex(f.buf.subarray(f.commandStart, f.commandEnd))).toBe(toHex(PING_CMD));
  });
});

describe('payload frames', () => {
  it('match the hand-built vector: sizes, magic 0x0e01, CRC32C over metadataSize+metadata+payload', () => {
    const expected = handSendFrame();
    expect(expected.length).toBe(4 + 35); // 4 + 8 + 2 + 4 + 4 + 10 + 3 after totalSize
    expect(toHex(expected.subarray(0, 4))).toBe('00000023');
    expect(toHex(encodePayloadFrame(SEND_CMD, META, PAYLOAD))).toBe(toHex(expected));
  });

  it('are what the producer hot path (EntryBuilder) writes for one non-batched message', () => {
    const b = new EntryBuilder(false, new TextEncoder().encode('p'), 1);
    b.add(PAYLOAD, 0, 3, 2);
    const entry = b.finish(1000);
    expect(toHex(entry.frame)).toBe(toHex(handSendFrame()));
    expect(entry).toMatchObject({ firstSeq: 2, lastSeq: 2, count: 1, payloadBytes: 3 });
  });

  it('parse into command, metadata and payload, and the checksum verifies', () => {
    const frame = handSendFrame().subarray(4);
    const f = parseFrame(frame);
    expect(f.hasPayload).toBe(true);
    expect(f.hasChecksum).toBe(true);
    expect(toHex(f.buf.subarray(f.commandStart, f.commandEnd))).toBe(toHex(SEND_CMD));
    expect(toHex(f.buf.subarray(f.metadataStart, f.metadataEnd))).toBe(toHex(META));
    expect(new TextDecoder().decode(f.buf.subarray(f.payloadStart, f.payloadEnd))).toBe('abc');
    expect(f.checksumOk()).toBe(true);
  });

  it('detect a corrupted byte in metadata or payload', () => {
    for (const at of [-1, -5]) {
      const frame = handSendFrame().subarray(4).slice();
      frame[frame.length + at]! ^= 0x01;
      expect(parseFrame(frame).checksumOk()).toBe(false);
    }
  });

  it('parse without a checksum (no magic) and after broker entry metadata (magic 0x0e02)', () => {
    const noChecksum = concat(u32(SEND_CMD.length), SEND_CMD, u32(META.length), META, PAYLOAD);
    const f = parseFrame(noChecksum);
    expect(f.hasChecksum).toBe(false);
    expect(f.checksumOk()).toBe(true);
    expect(toHex(f.buf.subarray(f.metadataStart, f.metadataEnd))).toBe(toHex(META));

    // BrokerEntryMetadata{broker_timestamp 1, index 2} = 08 01 10 02
    const withBem = concat(u32(SEND_CMD.length), SEND_CMD, hex('0e 02'), u32(4), hex('08 01 10 02'), handSendFrame().subarray(8 + SEND_CMD.length));
    const g = parseFrame(withBem);
    expect(g.hasChecksum).toBe(true);
    expect(g.checksumOk()).toBe(true);
    expect(new TextDecoder().decode(g.buf.subarray(g.payloadStart, g.payloadEnd))).toBe('abc');
  });

  it('reject sizes that overrun the frame', () => {
    const bad = concat(u32(100), SEND_CMD);
    expect(() => parseFrame(bad)).toThrow(PulsarWireError);
    const badMeta = concat(u32(SEND_CMD.length), SEND_CMD, hex('0e 01'), u32(0), u32(999), META);
    expect(() => parseFrame(badMeta)).toThrow(/metadata size/);
  });
});

describe('FrameReader', () => {
  const frames = [encodeSimpleFrame(PING_CMD), handSendFrame(), encodeSimpleFrame(hex('08 13 9a 01 00'))];
  const stream = concat(...frames);
  const bodies = frames.map((f) => toHex(f.subarray(4)));

  it('cuts a stream into frames however it is chunked', () => {
    for (const chunk of [1, 2, 3, 4, 5, 7, 13, stream.length]) {
      const got: string[] = [];
      const r = new FrameReader((f) => got.push(toHex(f)));
      for (let i = 0; i < stream.length; i += chunk) r.push(stream.subarray(i, i + chunk));
      expect(got, `chunks of ${chunk}`).toEqual(bodies);
      expect(r.pending).toBe(0);
    }
  });

  it('hands out frames inside one chunk as views, not copies', () => {
    const seen: Uint8Array[] = [];
    new FrameReader((f) => seen.push(f)).push(stream);
    expect(seen.every((f) => f.buffer === stream.buffer)).toBe(true);
  });

  it('rejects a frame size beyond the maximum', () => {
    const r = new FrameReader(() => undefined, 1024);
    expect(() => r.push(u32(1025))).toThrow(/frame size 1025/);
    expect(() => new FrameReader(() => undefined).push(u32(2))).toThrow(/frame size 2/);
  });
});
