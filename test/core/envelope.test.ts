import { describe, expect, it } from 'vitest';
import { encodeTemplate, stamp, stampBatch, stampAt, readProducer, readSeq, readSentNs, readQty, readTraceId, qtyFor, MIN_MESSAGE_SIZE, looksLikeEnvelope } from '../../src/core/envelope.ts';

describe('envelope', () => {
  it('is the 512-byte order message as valid JSON with the stamped fields', () => {
    const buf = encodeTemplate(512, 7);
    stamp(buf, 0, 123456789, 987654321012345, 1732272000123);
    expect(buf.length).toBe(512);
    const doc = JSON.parse(new TextDecoder().decode(buf)) as Record<string, unknown>;
    expect(doc).toMatchObject({ producer: 7, seq: 123456789, sent_ns: 987654321012345, timestamp: 1732272000123, qty: qtyFor(123456789) });
    expect(doc.trace_id).toBe('00007-0000000123456789');
    expect(typeof doc.price).toBe('number');
    expect(readTraceId(buf, 0)).toBe('00007-0000000123456789');
  });

  it('decodes what it stamps, at any offset, for many values', () => {
    const size = 300;
    const buf = new Uint8Array(size * 3);
    const t = encodeTemplate(size, 99999);
    for (let k = 0; k < 3; k++) buf.set(t, k * size);
    for (const seq of [0, 1, 9, 10, 99, 2 ** 31, 2 ** 40 + 3, 9_007_199_254_740]) {
      const sent = seq * 1000 + 17;
      stamp(buf, size, seq, sent, 0);
      expect(readProducer(buf, size)).toBe(99999);
      expect(readSeq(buf, size)).toBe(seq);
      expect(readSentNs(buf, size)).toBe(sent);
      expect(readQty(buf, size)).toBe(qtyFor(seq));
      // a smaller value after a larger one must not leave stale digits
      stamp(buf, size, 3, 4, 0);
      expect(readSeq(buf, size)).toBe(3);
      expect(readSentNs(buf, size)).toBe(4);
    }
    expect(looksLikeEnvelope(buf, size, size)).toBe(true);
  });

  it('refuses sizes that cannot hold the header', () => {
    expect(() => encodeTemplate(MIN_MESSAGE_SIZE - 1, 0)).toThrow(/outside/);
    expect(encodeTemplate(MIN_MESSAGE_SIZE, 0).length).toBe(MIN_MESSAGE_SIZE);
  });

  it('tells our messages from others: first byte, the colon before sent_ns, and the closing brace unless the run fixes the size', () => {
    const size = MIN_MESSAGE_SIZE + 30;
    const m = encodeTemplate(size, 1);
    stamp(m, 0, 7, 123, 456);
    expect(looksLikeEnvelope(m, 0, size)).toBe(true);
    expect(looksLikeEnvelope(m, 0, size, size)).toBe(true);
    // truncated by one byte: caught by its last byte, with or without a fixed size
    expect(looksLikeEnvelope(m, 0, size - 1)).toBe(false);
    expect(looksLikeEnvelope(m, 0, size - 1, size)).toBe(false);
    // the closing brace overwritten: only the fixed size vouches for it
    const noBrace = m.slice();
    noBrace[size - 1] = 0x20;
    expect(looksLikeEnvelope(noBrace, 0, size)).toBe(false);
    expect(looksLikeEnvelope(noBrace, 0, size, size)).toBe(true);
    // a foreign JSON payload of the right size: no colon where sent_ns starts
    const foreign = new TextEncoder().encode(`{"a":"${'y'.repeat(size - 8)}"}`);
    expect(foreign.length).toBe(size);
    expect(looksLikeEnvelope(foreign, 0, size, size)).toBe(false);
    expect(looksLikeEnvelope(m, 0, MIN_MESSAGE_SIZE - 1, MIN_MESSAGE_SIZE - 1)).toBe(false);
  });

  it('reads back every field width: 1 to 16 digits, against JSON.parse', () => {
    const buf = encodeTemplate(MIN_MESSAGE_SIZE + 20, 98_765);
    for (let digits = 1; digits <= 16; digits++) {
      for (const lead of [1, 5, 9]) {
        // lead digit, then a pattern that puts every digit in every position of a group of four
        let v = lead;
        for (let k = 1; k < digits; k++) v = v * 10 + ((k * 7 + lead) % 10);
        if (v > Number.MAX_SAFE_INTEGER) continue;
        stamp(buf, 0, v, v, 1_764_000_000_000);
        const parsed = JSON.parse(Buffer.from(buf).toString()) as { seq: number; sent_ns: number; producer: number; qty: number };
        expect([readSeq(buf, 0), readSentNs(buf, 0), readProducer(buf, 0), readQty(buf, 0)]).toEqual([v, v, 98_765, qtyFor(v)]);
        expect([parsed.seq, parsed.sent_ns, parsed.producer, parsed.qty]).toEqual([v, v, 98_765, qtyFor(v)]);
      }
    }
  });

  describe('batch stamping (each message as the one before plus one)', () => {
    const SIZE = 300;
    const COUNT = 40;
    /** what stamp() alone writes for message `seq` into a fresh template */
    const reference = (producer: number, seq: number, sentNs: number, wallMs: number): Uint8Array => {
      const m = encodeTemplate(SIZE, producer);
      stamp(m, 0, seq, sentNs, wallMs);
      return m;
    };
    // digit-count boundaries of the sequence, qty's wrap from 100 to 1, and a 16-digit sequence (below 2^53)
    const starts = [0, 1, 9 - 3, 99 - 20, 999 - 5, 10 ** 6 - 17, 10 ** 8 - 1, 10 ** 12 - 30, 10 ** 15 - 3, 8_999_999_999_999_960];
    const wallMs = 1_764_000_000_123;

    it('writes every message as stamp() does, into fresh and reused staging, shared and per-message times', () => {
      for (const shared of [true, false]) {
        const staging = new Uint8Array(SIZE * COUNT);
        const template = encodeTemplate(SIZE, 4321);
        for (let i = 0; i < COUNT; i++) staging.set(template, i * SIZE);
        // reused: each slot still holds an earlier batch's (smaller) sequence, as in a run
        for (const first of starts) {
          const times = Float64Array.from({ length: COUNT }, (_, i) => 5_000_000_000 + first + i * 977);
          stampBatch(staging, SIZE, COUNT, first, shared ? 123_456_789_012 : times, wallMs);
          for (let i = 0; i < COUNT; i++) {
            const want = reference(4321, first + i, shared ? 123_456_789_012 : times[i]!, wallMs);
            expect(Buffer.from(staging.subarray(i * SIZE, (i + 1) * SIZE)).toString(), `seq ${first + i}`).toBe(Buffer.from(want).toString());
          }
        }
      }
    });

    it('stampAt does the same at a pool\'s offsets, from any first message', () => {
      const sizes = [MIN_MESSAGE_SIZE, SIZE, MIN_MESSAGE_SIZE + 7, 257];
      const offsets = new Uint32Array(COUNT + 1);
      for (let i = 0; i < COUNT; i++) offsets[i + 1] = offsets[i]! + sizes[i % sizes.length]!;
      const pool = new Uint8Array(offsets[COUNT]!);
      for (let i = 0; i < COUNT; i++) pool.set(encodeTemplate(sizes[i % sizes.length]!, 7), offsets[i]!);
      for (const first of starts) {
        stampAt(pool, offsets, 3, COUNT - 3, first, 42_000_000_001, wallMs);
        for (let i = 3; i < COUNT; i++) {
          const m = encodeTemplate(sizes[i % sizes.length]!, 7);
          stamp(m, 0, first + i - 3, 42_000_000_001, wallMs);
          expect(Buffer.from(pool.subarray(offsets[i]!, offsets[i + 1]!)).toString(), `seq ${first + i - 3}`).toBe(Buffer.from(m).toString());
        }
      }
    });
  });
});
