/**
 * Key-based batching (wire/key-batch.ts): one open batch per key, each entry carrying one
 * key in its MessageMetadata and every SingleMessageMetadata, sent under its highest
 * sequence id in ascending order (what broker deduplication needs); and Murmur3_32 as the
 * Java client's Murmur3_32Hash computes it.
 */
import { describe, expect, it } from 'vitest';
import { forEachRun, KeyBatcher } from '../../src/adapters/pulsar/wire/key-batch.ts';
import { codecNamed } from '../../src/adapters/pulsar/wire/compression.ts';
import { inflateSync } from 'node:zlib';
import { PbReader, readSingleMetadata, SingleMetadata } from '../../src/adapters/pulsar/wire/fastcodec.ts';
import { parseFrame, readU32 } from '../../src/adapters/pulsar/wire/framing.ts';
import { keyPartition, murmur3_32 } from '../../src/adapters/pulsar/wire/murmur3.ts';
import { schema, u64, type U64 } from '../../src/adapters/pulsar/wire/proto.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

interface Decoded {
  sendSeq: number;
  sendHighest: number;
  metaKey: string;
  metaSeq: number;
  /** per message: its key and sequence id from SingleMessageMetadata */
  messages: Array<{ key: string; seq: number }>;
}

function decode(frame: Uint8Array): Decoded {
  const f = parseFrame(frame.subarray(4));
  const cmd = schema.lookupType('pulsar.proto.BaseCommand').decode(f.buf.subarray(f.commandStart, f.commandEnd)) as unknown as { send: { sequenceId: U64; highestSequenceId: U64; numMessages: number } };
  const meta = schema.lookupType('pulsar.proto.MessageMetadata').decode(f.buf.subarray(f.metadataStart, f.metadataEnd)) as unknown as { partitionKey: string; sequenceId: U64; numMessagesInBatch: number };
  const smmType = schema.lookupType('pulsar.proto.SingleMessageMetadata');
  const messages: Decoded['messages'] = [];
  let pos = f.payloadStart;
  for (let i = 0; i < meta.numMessagesInBatch; i++) {
    const size = readU32(f.buf, pos);
    const smm = smmType.decode(f.buf.subarray(pos + 4, pos + 4 + size)) as unknown as { partitionKey: string; sequenceId: U64; payloadSize: number };
    // our own reader skips the key and still finds the payload
    const ours = readSingleMetadata(new PbReader().reset(f.buf, pos + 4, pos + 4 + size), new SingleMetadata());
    expect(ours.payloadSize).toBe(smm.payloadSize);
    messages.push({ key: smm.partitionKey, seq: u64(smm.sequenceId) });
    pos += 4 + size + smm.payloadSize;
  }
  expect(pos).toBe(f.payloadEnd);
  expect(f.checksumOk()).toBe(true);
  return { sendSeq: u64(cmd.send.sequenceId), sendHighest: u64(cmd.send.highestSequenceId), metaKey: meta.partitionKey, metaSeq: u64(meta.sequenceId), messages };
}

describe('key-based batching', () => {
  it('compresses each key\'s entry with the producer\'s codec, as its unkeyed batches are', async () => {
    const kb = new KeyBatcher(enc('p'), 1, await codecNamed('zlib'));
    const body = enc('x'.repeat(200));
    for (let seq = 0; seq < 20; seq++) kb.add(`k${seq % 2}`, body, 0, body.length, seq);
    const entries = kb.finishAll(1000);
    expect(entries).toHaveLength(2);
    for (const e of entries) {
      const f = parseFrame(e.frame.subarray(4));
      const meta = schema.lookupType('pulsar.proto.MessageMetadata').decode(f.buf.subarray(f.metadataStart, f.metadataEnd)) as unknown as { compression: number; uncompressedSize: number; partitionKey: string };
      expect(meta.compression).toBe(2); // ZLIB
      const payload = f.buf.subarray(f.payloadStart, f.payloadEnd);
      expect(payload.length).toBeLessThan(meta.uncompressedSize);
      expect(inflateSync(payload).length).toBe(meta.uncompressedSize);
      expect(f.checksumOk()).toBe(true);
    }
  });

  it('puts each key in its own entry, every message of it carrying that key', () => {
    const kb = new KeyBatcher(enc('p'), 1);
    // round-robin over 3 keys: 0→k0, 1→k1, 2→k2, 3→k0, ...
    for (let seq = 0; seq < 10; seq++) kb.add(`k${seq % 3}`, enc(`m${seq}`), 0, 2, seq);
    expect(kb.count).toBe(10);
    const entries = kb.finishAll(1000);
    expect(kb.count).toBe(0);
    expect(entries).toHaveLength(3);
    const decoded = entries.map((e) => decode(e.frame));
    for (const d of decoded) {
      expect(new Set(d.messages.map((m) => m.key))).toEqual(new Set([d.metaKey]));
    }
    expect(decoded.map((d) => d.metaKey).sort()).toEqual(['k0', 'k1', 'k2']);
    const k0 = decoded.find((d) => d.metaKey === 'k0')!;
    expect(k0.messages.map((m) => m.seq)).toEqual([0, 3, 6, 9]);
    expect(entries.find((e) => e.seqs?.[0] === 0)).toMatchObject({ seqs: [0, 3, 6, 9], count: 4 });
  });

  it('sends each entry under its highest sequence, in ascending order of it', () => {
    const kb = new KeyBatcher(enc('p'), 1);
    // A(0), B(1), B(2), A(3), A(4): B goes as 2 before A as 4, so deduplication's
    // high-water mark rises with every entry and drops none
    for (const [key, seq] of [['A', 0], ['B', 1], ['B', 2], ['A', 3], ['A', 4]] as const) kb.add(key, enc('x'), 0, 1, seq);
    const entries = kb.finishAll(1000);
    const decoded = entries.map((e) => decode(e.frame));
    expect(decoded.map((d) => [d.metaKey, d.sendSeq, d.sendHighest, d.metaSeq])).toEqual([
      ['B', 2, 2, 2],
      ['A', 4, 4, 4],
    ]);
    expect(entries.map((e) => [e.firstSeq, e.lastSeq, e.seqs])).toEqual([
      [2, 2, [1, 2]],
      [4, 4, [0, 3, 4]],
    ]);
  });

  it('refuses a sequence not above those open (the producer flushes first)', () => {
    const kb = new KeyBatcher(enc('p'), 1);
    kb.add('A', enc('x'), 0, 1, 5);
    expect(() => kb.add('B', enc('x'), 0, 1, 5)).toThrow(/not above/);
  });

  it('counts bytes as the entries will hold them', () => {
    const kb = new KeyBatcher(enc('p'), 1);
    let expected = 0;
    for (let seq = 0; seq < 50; seq++) {
      expected += KeyBatcher.costOf(`key-${seq % 7}`, 100, seq);
      kb.add(`key-${seq % 7}`, new Uint8Array(100), 0, 100, seq);
    }
    expect(kb.size).toBe(expected);
    expect(kb.finishAll(0).reduce((n, e) => n + e.payloadBytes, 0)).toBe(expected);
  });

  it('reports an entry of scattered sequences as its runs', () => {
    const runs: [number, number][] = [];
    forEachRun([0, 1, 2, 5, 7, 8], (first, count) => runs.push([first, count]));
    expect(runs).toEqual([
      [0, 3],
      [5, 1],
      [7, 2],
    ]);
  });
});

describe('murmur3_32', () => {
  it('matches the reference vectors of MurmurHash3_x86_32', () => {
    expect(murmur3_32(enc(''))).toBe(0);
    expect(murmur3_32(enc(''), 1)).toBe(0x514e28b7);
    expect(murmur3_32(enc('abc'))).toBe(0xb3dd93fa);
    expect(murmur3_32(enc('hello'))).toBe(0x248bfa47);
    expect(murmur3_32(enc('The quick brown fox jumps over the lazy dog'))).toBe(0x2e4ff723);
  });

  it('routes keys to partitions evenly and always the same way', () => {
    const counts = new Array<number>(8).fill(0);
    for (let k = 0; k < 8000; k++) counts[keyPartition(`k${k}`, 8)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
    expect(keyPartition('k42', 8)).toBe(keyPartition('k42', 8));
    expect(keyPartition('hello', 8)).toBe((0x248bfa47 & 0x7fffffff) % 8);
  });
});
