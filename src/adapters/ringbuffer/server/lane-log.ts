/**
 * One lane in the ring server: a bounded in-memory log of appended publishes, addressed
 * by message offset (0, 1, 2, ... for the lane's whole life, across restarts when
 * journaled).
 *
 *   committed <= visible <= appended
 *   [committed, visible)  deliverable; a consumer's commit moves `committed`
 *   [visible, appended)   appended but not yet durable (journal fsync in progress)
 *
 * Why chunks (one per publish) rather than the shared-memory frame ring of the inline
 * mode: the server lives on one event loop, copies nothing it does not have to (a chunk
 * is a view of the bytes the socket read) and needs to cut deliveries at arbitrary
 * offsets, which is slicing a chunk; a byte ring would add a copy in and a copy out.
 * The bound is the same: payload bytes in [committed, appended) never exceed the
 * capacity, and a publish that would exceed it waits for a commit.
 */
export interface Chunk {
  firstOffset: number;
  count: number;
  size: number;
  firstSeq: number;
  bytes: Buffer;
}

/** A run of messages of one size to deliver: the parts are consecutive on the wire. */
export interface Slice {
  count: number;
  size: number;
  parts: Buffer[];
}

/** Deliveries larger than this are cut, so one lane cannot hold a socket for long. */
export const MAX_SLICE_BYTES = 1 << 20;

export class LaneLog {
  private chunks: Chunk[] = [];
  /** index of the first live chunk; the array is compacted now and then */
  private first = 0;
  appended = 0;
  visible = 0;
  committed = 0;
  /** highest sequence appended (-1: none), for deduplication */
  lastSeq = -1;
  /** payload bytes in [committed, appended) */
  used = 0;

  constructor(
    readonly capacity: number,
    private readonly dedup: boolean,
  ) {}

  /** State recovered from a journal: `chunks` hold what lies at or after `committed`. */
  restore(committed: number, appended: number, lastSeq: number, chunks: Chunk[]): void {
    this.committed = committed;
    this.appended = appended;
    this.visible = appended;
    this.lastSeq = lastSeq;
    this.chunks = chunks;
    this.first = 0;
    this.used = 0;
    for (const c of chunks) {
      const from = Math.max(c.firstOffset, committed);
      this.used += (c.firstOffset + c.count - from) * c.size;
    }
  }

  /** How many leading messages of a publish the lane already holds (0 with dedup off). */
  duplicates(firstSeq: number, count: number): number {
    if (!this.dedup) return 0;
    return Math.min(count, Math.max(0, this.lastSeq - firstSeq + 1));
  }

  hasRoom(bytes: number): boolean {
    return this.used + bytes <= this.capacity;
  }

  /** Appends (the caller checked the room) and returns the first offset. */
  append(firstSeq: number, count: number, size: number, bytes: Buffer): number {
    const firstOffset = this.appended;
    this.chunks.push({ firstOffset, count, size, firstSeq, bytes });
    this.appended += count;
    this.used += count * size;
    if (firstSeq + count - 1 > this.lastSeq) this.lastSeq = firstSeq + count - 1;
    return firstOffset;
  }

  makeVisible(upTo: number): void {
    if (upTo > this.visible) this.visible = Math.min(upTo, this.appended);
  }

  /** Up to `max` deliverable messages from `offset` (< visible), all of one size. */
  read(offset: number, max: number): Slice | undefined {
    if (offset >= this.visible || max <= 0) return undefined;
    let i = this.find(offset);
    const size = this.chunks[i]!.size;
    // Within the capacity too: the consumer refuses frames much larger than a lane.
    const bytes = Math.min(MAX_SLICE_BYTES, this.capacity);
    const limit = Math.min(max, this.visible - offset, size === 0 ? max : Math.max(1, Math.floor(bytes / size)));
    const parts: Buffer[] = [];
    let count = 0;
    let at = offset;
    while (count < limit && i < this.chunks.length) {
      const c = this.chunks[i]!;
      if (c.size !== size) break;
      const from = at - c.firstOffset;
      const n = Math.min(c.count - from, limit - count);
      parts.push(c.bytes.subarray(from * size, (from + n) * size));
      count += n;
      at += n;
      i++;
    }
    return { count, size, parts };
  }

  /** Everything before `offset` was handled: frees it. Returns the new committed offset. */
  commit(offset: number): number {
    const to = Math.min(offset, this.visible);
    if (to <= this.committed) return this.committed;
    for (let i = this.first; i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      const end = c.firstOffset + c.count;
      if (c.firstOffset >= to) break;
      this.used -= (Math.min(end, to) - Math.max(c.firstOffset, this.committed)) * c.size;
      if (end <= to) this.first = i + 1;
    }
    this.committed = to;
    if (this.first > 1024 && this.first * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
    return to;
  }

  /** Every appended message from `committed` on, as chunks (the first one cut at `committed`): a replica's catch-up. */
  backlog(): Chunk[] {
    const out: Chunk[] = [];
    for (let i = this.first; i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      const skip = Math.max(0, this.committed - c.firstOffset);
      if (skip >= c.count) continue;
      out.push(skip === 0 ? c : { firstOffset: c.firstOffset + skip, count: c.count - skip, size: c.size, firstSeq: c.firstSeq + skip, bytes: c.bytes.subarray(skip * c.size) });
    }
    return out;
  }

  /** Index of the chunk holding `offset` (committed <= offset < appended). */
  private find(offset: number): number {
    let lo = this.first;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.chunks[mid]!.firstOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
