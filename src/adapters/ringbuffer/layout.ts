/**
 * Memory layout of a lane: one SharedArrayBuffer per producer, holding a single-producer
 * single-consumer ring.
 *
 *   bytes 0..127     two 64-byte cache lines of control words (Int32)
 *   bytes 128..      `capacity` bytes of data, a power of two
 *
 * Control words, with padding on:
 *   line 0: TAIL (written by the producer only), PRODUCER_PARKED
 *   line 1: HEAD (written by the consumer only), CONSUMER_PARKED
 * Each side writes only its own line, so a store by one never invalidates the line the
 * other is writing. With padding off all four words share line 0 (false sharing), to
 * reproduce the reference document's experiment. The data region starts at byte 128 in
 * both cases, so the layouts differ in nothing else.
 * (The SharedArrayBuffer itself comes from V8's allocator: large ones are page-aligned;
 * the 64-byte alignment of small ones is not something JavaScript can check.)
 *
 * Bytes 56..63 of line 0 (free in both layouts) hold LAST_SEQ, a Float64 written by the
 * producer only: the highest sequence appended to the lane, for deduplication. It lives
 * in the lane rather than in the producer, so a producer that replaces a crashed one (a
 * pipeline stage reopened) still knows what the lane holds.
 *
 * Indices are byte counters kept as Int32 that wrap modulo 2^32, never reset:
 * position = index & (capacity - 1), bytes in use = (tail - head) | 0. Because capacity
 * divides 2^32 and is at most 2^30, both stay exact however many bytes a run moves,
 * far beyond 2^31 (tested from a start index just below the wrap).
 *
 * The data is a sequence of frames (see lane-writer.ts for why frames, not one record
 * per message):
 *   u32 count | u32 size | count * size bytes of messages | zero to seven bytes of padding
 * Frames written by the producer start 8-aligned. Any part of a frame, header included,
 * may run past the end of the data region and continue at its start.
 */
export const CACHE_LINE = 64;
export const DATA_OFFSET = 2 * CACHE_LINE;
export const FRAME_HEADER = 8;
export const MIN_CAPACITY = 64;
export const MAX_CAPACITY = 1 << 30;
const LAST_SEQ_BYTE = 56;

/** Int32 indices of the control words. */
export interface ControlWords {
  readonly tail: number;
  readonly producerParked: number;
  readonly head: number;
  readonly consumerParked: number;
}

const INTS_PER_LINE = CACHE_LINE / 4;
const PADDED: ControlWords = { tail: 0, producerParked: 1, head: INTS_PER_LINE, consumerParked: INTS_PER_LINE + 1 };
const PACKED: ControlWords = { tail: 0, producerParked: 1, head: 2, consumerParked: 3 };

export function controlWords(padded: boolean): ControlWords {
  return padded ? PADDED : PACKED;
}

/** Typed views of one lane, shared by its writer and its reader. */
export interface Lane {
  readonly words: Int32Array;
  readonly at: ControlWords;
  readonly data: Uint8Array;
  readonly capacity: number;
  readonly mask: number;
  /** [0]: highest sequence appended (-1: none); written by the producer before its tail store */
  readonly lastSeq: Float64Array;
}

/**
 * A new, empty lane. `startIndex` places head and tail anywhere in the 2^32 index space;
 * tests use it to cross the Int32 wrap. It must be a multiple of 8 (frames start aligned).
 */
export function createLane(capacity: number, padded: boolean, startIndex = 0): SharedArrayBuffer {
  if (!Number.isInteger(capacity) || capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || (capacity & (capacity - 1)) !== 0) {
    throw new RangeError(`lane capacity ${capacity} is not a power of two from ${MIN_CAPACITY} to ${MAX_CAPACITY}`);
  }
  if (startIndex % 8 !== 0) throw new RangeError(`lane start index ${startIndex} is not a multiple of 8`);
  const sab = new SharedArrayBuffer(DATA_OFFSET + capacity);
  const words = new Int32Array(sab, 0, DATA_OFFSET / 4);
  const at = controlWords(padded);
  words[at.tail] = startIndex | 0;
  words[at.head] = startIndex | 0;
  new Float64Array(sab, LAST_SEQ_BYTE, 1)[0] = -1;
  return sab;
}

export function openLane(sab: SharedArrayBuffer, padded: boolean): Lane {
  const capacity = sab.byteLength - DATA_OFFSET;
  return {
    words: new Int32Array(sab, 0, DATA_OFFSET / 4),
    at: controlWords(padded),
    data: new Uint8Array(sab, DATA_OFFSET, capacity),
    capacity,
    mask: capacity - 1,
    lastSeq: new Float64Array(sab, LAST_SEQ_BYTE, 1),
  };
}

/** Bytes a frame of `payload` message bytes takes, header and padding included. */
export function frameBytes(payload: number): number {
  return (FRAME_HEADER + payload + 7) & ~7;
}

/** Little-endian u32 at ring index `index`, byte by byte because it may wrap. */
export function readU32(data: Uint8Array, mask: number, index: number): number {
  return (data[index & mask]! | (data[(index + 1) & mask]! << 8) | (data[(index + 2) & mask]! << 16) | (data[(index + 3) & mask]! << 24)) >>> 0;
}

export function writeU32(data: Uint8Array, mask: number, index: number, value: number): void {
  data[index & mask] = value;
  data[(index + 1) & mask] = value >>> 8;
  data[(index + 2) & mask] = value >>> 16;
  data[(index + 3) & mask] = value >>> 24;
}

/**
 * One wake-up word per consumer (per stage: `count` = stages * consumers), each on its own
 * cache line. A consumer serving several lanes cannot Atomics.wait on all their tails at
 * once, so producers ring this instead.
 */
export function createDoorbells(count: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.max(1, count) * CACHE_LINE);
}

export function doorbellIndex(consumerId: number): number {
  return consumerId * INTS_PER_LINE;
}
