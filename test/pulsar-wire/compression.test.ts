/**
 * The codecs against vectors made once with the reference implementations
 * (./compression-vectors.ts). Our own output was checked against those libraries the same
 * way when this was written; here it must come back through ours.
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { codecOf, CompressionType, decompressPayload, nativeZstdCodec, prepareCodecs, wasmZstdCodec, zstdFrameContentSize, type Codec } from '../../src/adapters/pulsar/wire/compression.ts';
import { ORDERS, VECTORS } from './compression-vectors.ts';

const NAMES = ['lz4', 'zlib', 'zstd', 'snappy'] as const;
const codecs: Codec[] = [];

beforeAll(async () => {
  await prepareCodecs();
  for (const n of NAMES) codecs.push(codecOf(CompressionType[n])!);
  // Both zstd implementations where both exist (Node's own from 22.15 on, and the wasm one).
  const native = nativeZstdCodec();
  codecs.push(native ?? (await wasmZstdCodec()));
  if (native) codecs.push(await wasmZstdCodec());
});

describe('compression codecs', () => {
  it('uses the CompressionType numbers of PulsarApi.proto', () => {
    expect(CompressionType).toEqual({ none: 0, lz4: 1, zlib: 2, zstd: 3, snappy: 4 });
  });

  it('decodes what the reference libraries wrote', () => {
    for (const c of codecs) {
      const v = VECTORS[c.name as keyof typeof VECTORS];
      expect(Buffer.from(c.decompress(v, ORDERS.length)).toString(), c.name).toBe(Buffer.from(ORDERS).toString());
    }
  });

  it('decodes a complete zlib stream too (Adler-32 trailer, as other clients write)', () => {
    const z = codecOf(CompressionType.zlib)!;
    expect(z.decompress(zlib.deflateSync(ORDERS, { level: 9 }), ORDERS.length)).toEqual(Buffer.from(ORDERS));
  });

  it('compresses what it decodes again, for compressible and random payloads', () => {
    const random = crypto.randomBytes(70_000);
    const repetitive = new Uint8Array(128 * 1024).fill(0x61);
    for (const c of codecs) {
      for (const data of [ORDERS, random, repetitive, new Uint8Array(0)]) {
        const z = c.compress(data);
        expect(Buffer.from(c.decompress(z, data.length)).equals(Buffer.from(data)), `${c.name} ${data.length}`).toBe(true);
      }
      expect(c.compress(repetitive).length, c.name).toBeLessThan(repetitive.length / 20);
      // the worst case for incompressible input stays within what maxInputFor promises
      const limit = 70_000;
      expect(c.compress(random.subarray(0, c.maxInputFor(limit))).length, c.name).toBeLessThanOrEqual(limit);
    }
  });

  it('refuses a payload whose size is not uncompressed_size, or that does not decode', () => {
    for (const c of codecs) {
      const v = VECTORS[c.name as keyof typeof VECTORS];
      expect(() => c.decompress(v, ORDERS.length - 1), c.name).toThrow();
      expect(() => c.decompress(v, ORDERS.length + 1), c.name).toThrow();
      expect(() => c.decompress(v.subarray(0, v.length >> 1), ORDERS.length), c.name).toThrow();
    }
    // A zstd frame header that claims 2 GiB is refused before anything is allocated.
    const huge = Uint8Array.from(VECTORS.zstd);
    expect(zstdFrameContentSize(huge)).toBe(ORDERS.length);
    huge[4] = 0xa0; // single segment, 4-byte content size
    huge.set([0, 0, 0, 0x80], 5);
    expect(zstdFrameContentSize(huge)).toBe(2 ** 31);
    expect(() => codecs.find((c) => c.name === 'zstd')!.decompress(huge, ORDERS.length)).toThrow();
    expect(decompressPayload(CompressionType.snappy, VECTORS.snappy, 10)).toMatch(/^snappy payload does not decompress/);
    expect(decompressPayload(7, VECTORS.lz4, ORDERS.length)).toBe('unknown compression type 7');
    expect(decompressPayload(CompressionType.lz4, VECTORS.lz4, 2 ** 31)).toMatch(/uncompressed_size 2147483648 is out of range/);
    expect(Buffer.from(decompressPayload(CompressionType.lz4, VECTORS.lz4, ORDERS.length) as Uint8Array).equals(Buffer.from(ORDERS))).toBe(true);
  });
});
