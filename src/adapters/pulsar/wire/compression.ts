/**
 * Entry payload compression in the formats Pulsar's Java client writes and reads
 * (CompressionCodecLZ4/ZLib/Zstd/Snappy), so entries go both ways between the two:
 *   - LZ4:    a raw LZ4 block, no frame; the reader needs uncompressed_size to decode it.
 *   - ZLIB:   a zlib-wrapped deflate stream (java.util.zip.Deflater, default level 6).
 *             Java ends its stream with a SYNC_FLUSH, without the final block and the
 *             Adler-32 trailer, so the reader must accept a stream cut there.
 *   - ZSTD:   one zstd frame (level 3, as Java's codec).
 *   - SNAPPY: a raw snappy block (what xerial Snappy.compress writes), not the framed format.
 * The whole entry payload (after batch serialization) is compressed, and MessageMetadata
 * says the codec and uncompressed_size; the CRC32C covers the compressed bytes.
 *
 * Libraries: Node's zlib for ZLIB, and for ZSTD where Node has it (22.15 on); before that
 * the wasm build of libzstd (@bokuweb/zstd-wasm; @hpcc-js/wasm-zstd copies its output
 * through a JS array, 20 ms per 128 KiB entry). LZ4 and snappy come from napi-rs
 * packages (lz4-napi, snappy) whose prebuilt binaries are npm optional dependencies.
 * Each is loaded on first use, so a run without compression loads none of them.
 */
import { createRequire } from 'node:module';
import zlib from 'node:zlib';

export const COMPRESSIONS = ['none', 'lz4', 'zlib', 'zstd', 'snappy'] as const;
export type CompressionName = (typeof COMPRESSIONS)[number];

/** CompressionType in PulsarApi.proto (MessageMetadata field 8). */
export const CompressionType: Readonly<Record<CompressionName, number>> = { none: 0, lz4: 1, zlib: 2, zstd: 3, snappy: 4 };

export interface Codec {
  readonly name: CompressionName;
  /** CompressionType on the wire */
  readonly type: number;
  compress(src: Uint8Array): Uint8Array;
  /**
   * The largest input whose compressed form surely fits in `bytes` (the codec's worst
   * case for incompressible data), so that an entry never outgrows the broker's limit.
   */
  maxInputFor(bytes: number): number;
  /** Throws when `src` does not decode to exactly `size` bytes. */
  decompress(src: Uint8Array, size: number): Uint8Array;
}

/** Java's codec compresses at level 3 (CompressionCodecZstd.ZSTD_COMPRESSION_LEVEL). */
const ZSTD_LEVEL = 3;

const require = createRequire(import.meta.url);

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length);
}

function exactly(out: Uint8Array, size: number, codec: string): Uint8Array {
  if (out.length !== size) throw new Error(`${codec}: decoded to ${out.length} bytes, uncompressed_size says ${size}`);
  return out;
}

const zlibCodec: Codec = {
  name: 'zlib',
  type: CompressionType.zlib,
  compress: (src) => zlib.deflateSync(src),
  // deflate's stored blocks: 5 bytes per 16 KiB, plus the zlib header and trailer
  maxInputFor: (bytes) => Math.floor(((bytes - 64) * 16384) / 16389),
  // Z_SYNC_FLUSH as the final flush: a stream that stops at a sync point (Java's) is
  // complete, not truncated. One byte of headroom so that too long an output is seen.
  decompress: (src, size) => exactly(zlib.inflateSync(src, { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: size + 1 }), size, 'zlib'),
};

interface Lz4Napi {
  compressSync(data: Buffer): Buffer;
  uncompressSync(data: Uint8Array): Buffer;
}

/**
 * lz4-napi speaks lz4_flex's "size-prepended" block: a little-endian u32 of the
 * uncompressed size, then the raw block. The wire carries the raw block alone (the size is
 * in the metadata), so the prefix is cut off on the way out and put back on the way in.
 */
function lz4Codec(): Codec {
  const lz4 = require('lz4-napi') as Lz4Napi;
  return {
    name: 'lz4',
    type: CompressionType.lz4,
    compress: (src) => lz4.compressSync(asBuffer(src)).subarray(4),
    // LZ4_COMPRESSBOUND: n + n/255 + 16
    maxInputFor: (bytes) => Math.floor(((bytes - 16) * 255) / 256),
    decompress(src, size) {
      const framed = Buffer.allocUnsafe(4 + src.length);
      framed.writeUInt32LE(size, 0);
      framed.set(src, 4);
      return exactly(lz4.uncompressSync(framed), size, 'lz4');
    },
  };
}

interface SnappyNapi {
  compressSync(input: Uint8Array): Buffer;
  uncompressSync(input: Uint8Array, options: { asBuffer: true }): Buffer | string;
}

function snappyCodec(): Codec {
  const snappy = require('snappy') as SnappyNapi;
  return {
    name: 'snappy',
    type: CompressionType.snappy,
    compress: (src) => snappy.compressSync(src),
    // snappy's MaxCompressedLength: 32 + n + n/6
    maxInputFor: (bytes) => Math.floor(((bytes - 32) * 6) / 7),
    decompress(src, size) {
      const out = snappy.uncompressSync(src, { asBuffer: true });
      if (typeof out === 'string') throw new Error('snappy: decoded to a string');
      return exactly(out, size, 'snappy');
    },
  };
}

/** ZSTD_COMPRESSBOUND: n + n/256 plus a frame header's worth (at most 64 bytes for us). */
const zstdMaxInput = (bytes: number): number => Math.floor(((bytes - 64) * 256) / 257);

/** Node's own zstd (22.15 on); absent from @types/node 20, hence the shape here. */
interface NodeZstd {
  zstdCompressSync(src: Uint8Array, opts: { params: Record<number, number> }): Buffer;
  zstdDecompressSync(src: Uint8Array, opts: { maxOutputLength: number }): Buffer;
}

function nodeZstd(): NodeZstd | null {
  const z = zlib as unknown as Partial<NodeZstd>;
  return typeof z.zstdCompressSync === 'function' && typeof z.zstdDecompressSync === 'function' ? (z as NodeZstd) : null;
}

/** The zstd codec on Node's zlib, or null where Node has no zstd. */
export function nativeZstdCodec(): Codec | null {
  const z = nodeZstd();
  if (!z) return null;
  const level = (zlib.constants as unknown as Record<string, number>).ZSTD_c_compressionLevel!;
  return {
    name: 'zstd',
    type: CompressionType.zstd,
    compress: (src) => z.zstdCompressSync(src, { params: { [level]: ZSTD_LEVEL } }),
    maxInputFor: zstdMaxInput,
    decompress: (src, size) => exactly(z.zstdDecompressSync(src, { maxOutputLength: size + 1 }), size, 'zstd'),
  };
}

type WasmZstd = typeof import('@bokuweb/zstd-wasm');

/**
 * Frame_Content_Size from a zstd frame header (RFC 8878 3.1.1.1): the size the wasm
 * decoder allocates, so it is checked against uncompressed_size first (a corrupt header
 * must not make it allocate gigabytes). null: the frame does not say; undefined: no frame.
 */
export function zstdFrameContentSize(b: Uint8Array): number | null | undefined {
  if (b.length < 5 || b[0] !== 0x28 || b[1] !== 0xb5 || b[2] !== 0x2f || b[3] !== 0xfd) return undefined;
  const fhd = b[4]!;
  const singleSegment = (fhd >> 5) & 1;
  const fcsBytes = [singleSegment, 2, 4, 8][fhd >> 6]!;
  if (fcsBytes === 0) return null;
  const at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][fhd & 3]!;
  if (at + fcsBytes > b.length) return undefined;
  let v = 0;
  for (let i = fcsBytes - 1; i >= 0; i--) v = v * 256 + b[at + i]!;
  return fcsBytes === 2 ? v + 256 : v;
}

/** The zstd codec on the wasm build of libzstd (any Node version). */
export async function wasmZstdCodec(): Promise<Codec> {
  const z = require('@bokuweb/zstd-wasm') as WasmZstd;
  await z.init();
  return {
    name: 'zstd',
    type: CompressionType.zstd,
    compress: (src) => z.compress(src, ZSTD_LEVEL),
    maxInputFor: zstdMaxInput,
    // defaultHeapSize is what it allocates for a frame that does not say its size.
    decompress(src, size) {
      const said = zstdFrameContentSize(src);
      if (said === undefined) throw new Error('zstd: not a zstd frame');
      if (said !== null && said !== size) throw new Error(`zstd: the frame says ${said} bytes, uncompressed_size ${size}`);
      return exactly(z.decompress(src, { defaultHeapSize: Math.max(size, 1) }), size, 'zstd');
    },
  };
}

const codecs = new Map<number, Codec>();
let zstdLoading: Promise<void> | null = null;

/**
 * Makes every codec ready for synchronous use (zstd may need its wasm compiled, which is
 * asynchronous): a consumer decodes whatever codec an entry names, so it calls this before
 * it subscribes. Cached per thread.
 */
export function prepareCodecs(): Promise<void> {
  zstdLoading ??= (async () => {
    codecs.set(CompressionType.zstd, nativeZstdCodec() ?? (await wasmZstdCodec()));
  })();
  return zstdLoading;
}

/**
 * The codec of a CompressionType (1-4), or undefined for an unknown type. ZSTD needs
 * prepareCodecs() first; LZ4 and snappy load their library here on first use.
 */
export function codecOf(type: number): Codec | undefined {
  let c = codecs.get(type);
  if (c) return c;
  if (type === CompressionType.zlib) c = zlibCodec;
  else if (type === CompressionType.lz4) c = lz4Codec();
  else if (type === CompressionType.snappy) c = snappyCodec();
  else return undefined;
  codecs.set(type, c);
  return c;
}

/** The codec for an option value; null for 'none'. Awaits what it needs to load. */
export async function codecNamed(name: CompressionName): Promise<Codec | null> {
  if (name === 'none') return null;
  await prepareCodecs();
  return codecOf(CompressionType[name]) ?? null;
}

/** Uncompressed sizes above this are taken as corrupt metadata, not allocated. */
const MAX_UNCOMPRESSED = 256 * 1024 * 1024;

/**
 * An entry payload decompressed as its metadata says, or the reason it cannot be (the
 * consumer then discards it with DecompressionError, as ConsumerImpl does).
 */
export function decompressPayload(type: number, src: Uint8Array, uncompressedSize: number): Uint8Array | string {
  if (uncompressedSize < 0 || uncompressedSize > MAX_UNCOMPRESSED) return `uncompressed_size ${uncompressedSize} is out of range`;
  let codec: Codec | undefined;
  try {
    codec = codecOf(type);
  } catch (err) {
    return `compression type ${type}: its library did not load (${(err as Error).message})`;
  }
  if (!codec) return type === CompressionType.zstd ? 'zstd is not loaded (prepareCodecs)' : `unknown compression type ${type}`;
  try {
    return codec.decompress(src, uncompressedSize);
  } catch (err) {
    return `${codec.name} payload does not decompress: ${(err as Error).message}`;
  }
}
