/**
 * MurmurHash3 x86 32-bit, seed 0, of a key's UTF-8 bytes, masked to 31 bits: the Java
 * client's HashingScheme.Murmur3_32Hash (the hash busbench routes keys to partitions by;
 * the broker's Key_Shared dispatch hashes keys with Murmur3 too).
 */
import { fmix32 } from './keys.ts';

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

export function murmur3_32(bytes: Uint8Array, seed = 0): number {
  let h = seed >>> 0;
  const n = bytes.length;
  const blocks = n & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = n & 3;
  if (tail > 0) {
    let k = bytes[blocks]!;
    if (tail > 1) k ^= bytes[blocks + 1]! << 8;
    if (tail > 2) k ^= bytes[blocks + 2]! << 16;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  return fmix32(h ^ n);
}

const UTF8 = new TextEncoder();

/** The partition a key goes to among `partitions`, as the Java client's key routing with Murmur3_32Hash. */
export function keyPartition(key: string, partitions: number): number {
  return (murmur3_32(UTF8.encode(key)) & 0x7fffffff) % partitions;
}
