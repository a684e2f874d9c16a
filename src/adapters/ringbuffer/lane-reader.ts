/**
 * The consumer end of a lane.
 *
 * `read` delivers views into the lane's shared memory, no copies, and moves only a
 * private cursor; `commit` (the consumer's ack) publishes the head with one
 * Atomics.store, and only then may the producer reuse the space. The head is therefore
 * the consumer's committed offset: everything before it was handled, everything after
 * it will be delivered (again) by a reader opened on the lane, which is what
 * exactly-once processing will build on.
 *
 * The head always points at a frame header, even when a read stopped inside a frame
 * (`max` smaller than the frame): `commit` then writes a header for the remaining
 * messages over the last 8 bytes already handled, just before them, and points the head
 * there. A restarted reader needs nothing but the head.
 *
 * A message that runs past the end of the data region cannot be one view: it is copied
 * into the reader's scratch buffer, and `buffer(i)` returns that scratch for it (at most
 * one message per batch wraps, since a batch spans less than the capacity).
 */
import type { DeliveryBatch } from '../../core/contract.ts';
import { FRAME_HEADER, readU32, writeU32, type Lane } from './layout.ts';
import { BusbenchError } from '../../core/errors.ts';

export class LaneBatch implements DeliveryBatch {
  count = 0;
  /** index of the message copied to scratch, -1 when none wrapped */
  wrapped = -1;
  offsets = new Int32Array(0);
  lengths = new Int32Array(0);
  scratch = new Uint8Array(0);
  /** with partitions: the partition every message of the batch came through (its ordering domain) */
  lane?: (i: number) => number;

  constructor(
    readonly reader: LaneReader,
    readonly view: Uint8Array,
  ) {}

  buffer(i: number): Uint8Array {
    return i === this.wrapped ? this.scratch : this.view;
  }

  offset(i: number): number {
    return this.offsets[i]!;
  }

  length(i: number): number {
    return this.lengths[i]!;
  }

  /** Empties the batch and makes room for `max` messages. */
  reset(max: number): void {
    this.count = 0;
    this.wrapped = -1;
    if (this.offsets.length < max) {
      this.offsets = new Int32Array(max);
      this.lengths = new Int32Array(max);
    }
  }

  /** Copies the wrapping message at ring position `pos` into scratch as message `i`. */
  copyWrapped(i: number, pos: number, size: number): void {
    if (this.scratch.length < size) this.scratch = new Uint8Array(size);
    const firstPart = this.view.length - pos;
    this.scratch.set(this.view.subarray(pos), 0);
    this.scratch.set(this.view.subarray(0, size - firstPart), firstPart);
    this.wrapped = i;
    this.offsets[i] = 0;
  }
}

export class LaneReader {
  readonly batch: LaneBatch;
  /** next header to parse when `remaining` is 0, else the next message of the current frame */
  private cursor: number;
  private remaining = 0;
  private size = 0;
  private cachedTail: number;

  constructor(
    private readonly lane: Lane,
    /** the lane's partition, where the run has more than one */
    partition?: number,
  ) {
    this.cursor = Atomics.load(lane.words, lane.at.head);
    this.cachedTail = this.cursor;
    this.batch = new LaneBatch(this, lane.data);
    if (partition !== undefined) this.batch.lane = () => partition;
  }

  /** Whether a read would return something. */
  hasData(): boolean {
    if (this.remaining > 0 || this.cursor !== this.cachedTail) return true;
    this.cachedTail = Atomics.load(this.lane.words, this.lane.at.tail);
    return this.cursor !== this.cachedTail;
  }

  /** Delivers up to `max` messages (possibly none) past the previous read. */
  read(max: number): LaneBatch {
    const { data, mask, capacity } = this.lane;
    const batch = this.batch;
    batch.reset(max);
    const offsets = batch.offsets;
    const lengths = batch.lengths;
    let { cursor, remaining, size } = this;
    let n = 0;
    while (n < max) {
      if (remaining === 0) {
        if (cursor === this.cachedTail) {
          this.cachedTail = Atomics.load(this.lane.words, this.lane.at.tail);
          if (cursor === this.cachedTail) break;
        }
        remaining = readU32(data, mask, cursor);
        size = readU32(data, mask, cursor + 4);
        if (remaining === 0 || size > capacity - FRAME_HEADER) {
          throw new BusbenchError('ADAPTER', `ring lane corrupt: frame header (count ${remaining}, size ${size}) at index ${cursor >>> 0}`);
        }
        cursor = (cursor + FRAME_HEADER) | 0;
      }
      const take = remaining < max - n ? remaining : max - n;
      let pos = cursor & mask;
      for (let j = 0; j < take; j++, n++) {
        if (pos + size > capacity) batch.copyWrapped(n, pos, size);
        else offsets[n] = pos;
        lengths[n] = size;
        pos += size;
        if (pos >= capacity) pos -= capacity;
      }
      cursor = (cursor + take * size) | 0;
      remaining -= take;
      // The producer starts every frame 8-aligned.
      if (remaining === 0) cursor = (cursor + 7) & ~7;
    }
    this.cursor = cursor;
    this.remaining = remaining;
    this.size = size;
    batch.count = n;
    return batch;
  }

  /** Hands everything read so far back to the producer: the consumer offset commit. */
  commit(): void {
    const { words, at, data, mask } = this.lane;
    let head = this.cursor;
    if (this.remaining > 0) {
      head = (head - FRAME_HEADER) | 0;
      writeU32(data, mask, head, this.remaining);
      writeU32(data, mask, head + 4, this.size);
    }
    Atomics.store(words, at.head, head);
    if (Atomics.load(words, at.producerParked) !== 0) Atomics.notify(words, at.head);
  }
}
