/**
 * The producer end of a lane.
 *
 * Why frames of equal-size messages rather than a length prefix per message or fixed
 * slots: a harness batch is `count` messages of `size` bytes laid end to end, and the
 * copy into shared memory dominates the producer's cost. Measured here (Node 20, 512-byte
 * messages, 256 per batch): one Uint8Array.set of the whole batch into a
 * SharedArrayBuffer costs ~35 ns per message; a set per message (to interleave length
 * prefixes) costs ~170 ns, and ~370 ns when source and destination are not aligned
 * alike modulo 8 (V8 then copies shared memory byte by byte). So a frame carries one
 * header (count, size) and the batch bytes copied with one set, two when the frame
 * wraps. Frames are still variable-size records with a length prefix: consecutive frames
 * may carry any message size, and nothing assumes a run's messages are all alike. Fixed
 * slots would waste space for small messages and cap the message size.
 *
 * Frames start 8-aligned so that the copy keeps the source's alignment (the harness
 * stages batches at offset 0), including the second part of a wrapping copy, which
 * starts at data offset 0.
 *
 * The tail is published with one Atomics.store per frame, and a batch is one frame
 * unless it does not fit in the free space: then the part that fits goes first, so a
 * batch larger than the lane still makes progress.
 *
 * Durability is not this file's business: the journal belongs to the child-process mode
 * (server/journal.ts), where a process owns the lanes and can be killed on its own.
 */
import { FRAME_HEADER, frameBytes, writeU32, type Lane } from './layout.ts';
import type { Parking } from './waiting.ts';

export class LaneWriter {
  private tail: number;
  /** last head seen: re-read only when it does not leave room, to spare the consumer's cache line */
  private cachedHead: number;

  constructor(
    private readonly lane: Lane,
    /** the serving consumer's doorbell, rung when it is parked */
    private readonly bell: Int32Array,
    private readonly bellIndex: number,
  ) {
    this.tail = Atomics.load(lane.words, lane.at.tail);
    this.cachedHead = Atomics.load(lane.words, lane.at.head);
  }

  /** Whether a frame of `payload` bytes could fit in an empty lane. */
  fitsAtAll(payload: number): boolean {
    return frameBytes(payload) <= this.lane.capacity;
  }

  /** Whether a frame of `payload` bytes fits now. */
  hasRoom(payload: number): boolean {
    return this.free(frameBytes(payload)) >= frameBytes(payload);
  }

  /** The highest sequence appended to the lane so far (-1: none). */
  lastSeq(): number {
    return this.lane.lastSeq[0]!;
  }

  /**
   * Writes messages [first, first+count) of `src` (each `size` bytes, laid end to end)
   * as one frame: all of them if they fit, else as many as fit. Publishes the frame and
   * returns how many messages it holds (0: no room for even one). `firstSeq` is the
   * sequence of message `first`, recorded as the lane's last sequence.
   */
  write(src: Uint8Array, first: number, size: number, count: number, firstSeq = -1): number {
    const { capacity, mask, data } = this.lane;
    const free = this.free(frameBytes(count * size));
    let n = count;
    if (frameBytes(n * size) > free) {
      n = size === 0 ? 0 : Math.floor(((free & ~7) - FRAME_HEADER) / size);
      if (n <= 0) return 0;
    }
    const tail = this.tail;
    writeU32(data, mask, tail, n);
    writeU32(data, mask, tail + 4, size);
    const len = n * size;
    const from = first * size;
    const start = (tail + FRAME_HEADER) & mask;
    const firstPart = Math.min(len, capacity - start);
    if (firstPart === len) {
      data.set(from === 0 && len === src.length ? src : src.subarray(from, from + len), start);
    } else {
      data.set(src.subarray(from, from + firstPart), start);
      data.set(src.subarray(from + firstPart, from + len), 0);
    }
    this.tail = (tail + frameBytes(len)) | 0;
    // Before the tail store, whose Atomics ordering makes it visible to whoever sees the frame.
    const last = firstSeq + n - 1;
    if (firstSeq >= 0 && last > this.lane.lastSeq[0]!) this.lane.lastSeq[0] = last;
    this.publish();
    return n;
  }

  /** Free bytes, re-reading the head only when the cached one shows less than `wanted`. */
  private free(wanted: number): number {
    const { words, at, capacity } = this.lane;
    let free = capacity - ((this.tail - this.cachedHead) | 0);
    if (free < wanted) {
      this.cachedHead = Atomics.load(words, at.head);
      free = capacity - ((this.tail - this.cachedHead) | 0);
    }
    return free;
  }

  private publish(): void {
    const { words, at } = this.lane;
    Atomics.store(words, at.tail, this.tail);
    if (Atomics.load(words, at.consumerParked) !== 0) {
      Atomics.add(this.bell, this.bellIndex, 1);
      Atomics.notify(this.bell, this.bellIndex);
    }
  }
}

/** A producer waiting for room: it sleeps on the head word, which the consumer's commit notifies. */
export class RoomParking implements Parking {
  /** message bytes of the frame waited for */
  payload = 0;
  readonly word: Int32Array;
  readonly index: number;

  constructor(
    private readonly writer: LaneWriter,
    private readonly lane: Lane,
  ) {
    this.word = lane.words;
    this.index = lane.at.head;
  }

  ready(): boolean {
    return this.writer.hasRoom(this.payload);
  }

  arm(): number {
    const head = Atomics.load(this.lane.words, this.lane.at.head);
    Atomics.store(this.lane.words, this.lane.at.producerParked, 1);
    return head;
  }

  disarm(): void {
    Atomics.store(this.lane.words, this.lane.at.producerParked, 0);
  }
}
