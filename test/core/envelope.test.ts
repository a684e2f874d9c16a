import { describe, expect, it } from 'vitest';
import { encodeTemplate, stamp, readProducer, readSeq, readSentNs, readQty, readTraceId, qtyFor, MIN_MESSAGE_SIZE, looksLikeEnvelope } from '../../src/core/envelope.ts';

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
});
