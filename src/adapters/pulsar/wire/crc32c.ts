/**
 * CRC32C (Castagnoli: reflected polynomial 0x82F63B78, initial and final XOR 0xFFFFFFFF),
 * the checksum Pulsar puts on every payload frame.
 *
 * Node has no CRC32C (zlib.crc32 is the other polynomial), so this is table driven,
 * slicing-by-8: eight 256-entry tables let one step fold 8 input bytes with 8 lookups
 * instead of 8 dependent shift/lookup rounds. All eight tables live in one Int32Array so
 * they share cache lines and stay in V8's fast typed-array path.
 */

const POLY = 0x82f63b78;

const TABLE = ((): Int32Array => {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[i] = c;
  }
  // Table k holds the CRC of byte i followed by k zero bytes.
  for (let k = 1; k < 8; k++) {
    for (let i = 0; i < 256; i++) {
      const prev = t[(k - 1) * 256 + i]!;
      t[k * 256 + i] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
})();

/** x86 and ARM in practice; on a big-endian host word reads would be byte-swapped. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Below this a typed-array view costs more than word reads save. */
const WORDS_FROM = 256;

/**
 * CRC32C of bytes[start, end). Pass the result of a previous call as `crc` to continue a
 * checksum over several pieces. Returns an unsigned 32-bit number.
 *
 * Long inputs are read 32 bits at a time through an Int32Array view of the aligned part
 * (about 1.5x faster than assembling words from bytes, measured on Node 20).
 */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length, crc = 0): number {
  const t = TABLE;
  let c = ~crc;
  let i = start;
  if (LITTLE_ENDIAN && end - start >= WORDS_FROM) {
    while (((bytes.byteOffset + i) & 3) !== 0) c = (c >>> 8) ^ t[(c ^ bytes[i++]!) & 0xff]!;
    const words = new Int32Array(bytes.buffer, bytes.byteOffset + i, (end - i) >>> 3 << 1);
    const n = words.length;
    for (let w = 0; w < n; w += 2) {
      const lo = c ^ words[w]!;
      const hi = words[w + 1]!;
      c =
        t[1792 + (lo & 0xff)]! ^
        t[1536 + ((lo >>> 8) & 0xff)]! ^
        t[1280 + ((lo >>> 16) & 0xff)]! ^
        t[1024 + (lo >>> 24)]! ^
        t[768 + (hi & 0xff)]! ^
        t[512 + ((hi >>> 8) & 0xff)]! ^
        t[256 + ((hi >>> 16) & 0xff)]! ^
        t[hi >>> 24]!;
    }
    i += n * 4;
  } else {
    const end8 = end - 7;
    while (i < end8) {
      const lo = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
      c =
        t[1792 + (lo & 0xff)]! ^
        t[1536 + ((lo >>> 8) & 0xff)]! ^
        t[1280 + ((lo >>> 16) & 0xff)]! ^
        t[1024 + (lo >>> 24)]! ^
        t[768 + bytes[i + 4]!]! ^
        t[512 + bytes[i + 5]!]! ^
        t[256 + bytes[i + 6]!]! ^
        t[bytes[i + 7]!]!;
      i += 8;
    }
  }
  while (i < end) c = (c >>> 8) ^ t[(c ^ bytes[i++]!) & 0xff]!;
  return ~c >>> 0;
}
