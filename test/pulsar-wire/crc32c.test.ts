import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/adapters/pulsar/wire/crc32c.ts';
import { bitwiseCrc32c, hex } from './helpers.ts';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('crc32c', () => {
  it('matches the published check value and the RFC 3720 (iSCSI) test vectors', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    // RFC 3720 B.4: an iSCSI Read (10) command PDU
    const pdu = hex('01c00000 00000000 00000000 00000000 14000000 00000400 00000014 00000018 28000000 00000000 02000000 00000000');
    expect(crc32c(pdu)).toBe(0xd9963a56);
  });

  it('is 0 for no bytes', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('agrees with a bit-at-a-time reference for every length and alignment (byte and word paths)', () => {
    const data = Uint8Array.from({ length: 2048 }, (_, i) => (i * 131 + 7) & 0xff);
    for (const start of [0, 1, 2, 3, 5]) {
      for (const len of [0, 1, 7, 8, 9, 63, 255, 256, 257, 300, 1000, 2040]) {
        if (start + len > data.length) continue;
        expect(crc32c(data, start, start + len), `start ${start} len ${len}`).toBe(bitwiseCrc32c(data.subarray(start, start + len)));
      }
    }
    // a view whose byteOffset is not 4-aligned
    const shifted = new Uint8Array(data.buffer, 3, 1500);
    expect(crc32c(shifted)).toBe(bitwiseCrc32c(shifted));
  });

  it('continues a checksum across pieces', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    const whole = crc32c(data);
    for (const cut of [1, 8, 100, 999]) expect(crc32c(data, cut, data.length, crc32c(data, 0, cut))).toBe(whole);
  });
});
