/**
 * A set of sequence numbers that stays small when the set is mostly contiguous, which is
 * what a delivery ledger sees: one bit per sequence in chunks of 2^16, and a chunk that
 * fills up is replaced by a shared marker. A run of a billion in-order messages therefore
 * costs a few chunks of memory, not 125 MB, and a hole still costs only its chunk.
 */
const CHUNK_BITS = 16;
const CHUNK_SIZE = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK_SIZE - 1;
const WORDS = CHUNK_SIZE >>> 5;

interface PartialChunk {
  words: Uint32Array;
  count: number;
}

const FULL = 'full' as const;
type Chunk = PartialChunk | typeof FULL;

/** Structured-clone form: [chunkIndex, words | "full"] pairs. */
export type SeqSetSnapshot = Array<[number, Uint32Array | 'full']>;

function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export class SeqSet {
  private readonly chunks = new Map<number, Chunk>();
  private lastIndex = -1;
  private lastChunk: Chunk | undefined;
  /** number of distinct members */
  size = 0;

  private chunkFor(index: number): Chunk {
    if (index === this.lastIndex && this.lastChunk !== undefined) return this.lastChunk;
    let c = this.chunks.get(index);
    if (c === undefined) {
      c = { words: new Uint32Array(WORDS), count: 0 };
      this.chunks.set(index, c);
    }
    this.lastIndex = index;
    this.lastChunk = c;
    return c;
  }

  private promoteIfFull(index: number, c: PartialChunk): void {
    if (c.count === CHUNK_SIZE) {
      this.chunks.set(index, FULL);
      if (this.lastIndex === index) this.lastChunk = FULL;
    }
  }

  /** Adds `seq`; returns false when it was already present (a duplicate). */
  add(seq: number): boolean {
    const index = Math.floor(seq / CHUNK_SIZE);
    const c = this.chunkFor(index);
    if (c === FULL) return false;
    const bit = seq & CHUNK_MASK;
    const w = bit >>> 5;
    const m = 1 << (bit & 31);
    const word = c.words[w]!;
    if ((word & m) !== 0) return false;
    c.words[w] = word | m;
    c.count++;
    this.size++;
    if (c.count === CHUNK_SIZE) this.promoteIfFull(index, c);
    return true;
  }

  /** Adds [seq, seq+count); returns how many were already present. */
  addRange(seq: number, count: number): number {
    let dup = 0;
    for (let s = seq; s < seq + count; s++) if (!this.add(s)) dup++;
    return dup;
  }

  has(seq: number): boolean {
    const c = this.chunks.get(Math.floor(seq / CHUNK_SIZE));
    if (c === undefined) return false;
    if (c === FULL) return true;
    const bit = seq & CHUNK_MASK;
    return (c.words[bit >>> 5]! & (1 << (bit & 31))) !== 0;
  }

  /** Adds every member of `other`; returns how many were already present here. */
  addAll(other: SeqSet): number {
    let overlap = 0;
    for (const [index, oc] of other.chunks) {
      const mine = this.chunks.get(index);
      const otherCount = oc === FULL ? CHUNK_SIZE : oc.count;
      if (mine === FULL) {
        overlap += otherCount;
        continue;
      }
      if (mine === undefined) {
        this.chunks.set(index, oc === FULL ? FULL : { words: oc.words.slice(), count: oc.count });
        this.size += otherCount;
        continue;
      }
      if (oc === FULL) {
        overlap += mine.count;
        this.size += CHUNK_SIZE - mine.count;
        this.chunks.set(index, FULL);
        continue;
      }
      for (let w = 0; w < WORDS; w++) {
        const a = mine.words[w]!;
        const b = oc.words[w]!;
        if (b === 0) continue;
        const both = popcount(a & b);
        const added = popcount(b) - both;
        overlap += both;
        mine.count += added;
        this.size += added;
        mine.words[w] = a | b;
      }
      this.promoteIfFull(index, mine);
    }
    this.lastIndex = -1;
    this.lastChunk = undefined;
    return overlap;
  }

  /** |this \ other|: members of this set that `other` lacks. */
  countMissingFrom(other: SeqSet): number {
    let missing = 0;
    for (const [index, c] of this.chunks) {
      const oc = other.chunks.get(index);
      if (oc === FULL) continue;
      const mineCount = c === FULL ? CHUNK_SIZE : c.count;
      if (oc === undefined) {
        missing += mineCount;
        continue;
      }
      for (let w = 0; w < WORDS; w++) {
        const a = c === FULL ? 0xffffffff : c.words[w]!;
        missing += popcount(a & ~oc.words[w]!);
      }
    }
    return missing;
  }

  /** How many of [0, n) are members. */
  countBelow(n: number): number {
    let total = 0;
    const lastFull = Math.floor(n / CHUNK_SIZE);
    for (const [index, c] of this.chunks) {
      if (index < lastFull) total += c === FULL ? CHUNK_SIZE : c.count;
      else if (index === lastFull) {
        const upto = n & CHUNK_MASK;
        for (let b = 0; b < upto; b++) {
          if (c === FULL || (c.words[b >>> 5]! & (1 << (b & 31))) !== 0) total++;
        }
      }
    }
    return total;
  }

  /** Up to `limit` members of [0, n) that are absent, in order: for error messages. */
  firstAbsent(n: number, limit: number): number[] {
    const out: number[] = [];
    for (let s = 0; s < n && out.length < limit; s++) {
      const c = this.chunks.get(Math.floor(s / CHUNK_SIZE));
      if (c === FULL) {
        s = (Math.floor(s / CHUNK_SIZE) + 1) * CHUNK_SIZE - 1;
        continue;
      }
      if (!this.has(s)) out.push(s);
    }
    return out;
  }

  /** Up to `limit` members of this set that `other` lacks, in order: for error messages. */
  firstMissingFrom(other: SeqSet, limit: number): number[] {
    const out: number[] = [];
    for (const index of [...this.chunks.keys()].sort((a, b) => a - b)) {
      for (let s = index * CHUNK_SIZE; s < (index + 1) * CHUNK_SIZE && out.length < limit; s++) {
        if (this.has(s) && !other.has(s)) out.push(s);
      }
      if (out.length >= limit) break;
    }
    return out;
  }

  /** bytes held by partial chunks: the ledger's memory cost */
  get footprintBytes(): number {
    let bytes = 0;
    for (const c of this.chunks.values()) if (c !== FULL) bytes += c.words.byteLength;
    return bytes;
  }

  snapshot(): SeqSetSnapshot {
    return [...this.chunks].map(([i, c]) => [i, c === FULL ? FULL : c.words.slice()]);
  }

  /**
   * The members as sorted half-open ranges, flattened [from, to, from, to, ...]: the
   * result file's compact form, two numbers per contiguous run.
   */
  ranges(): number[] {
    const out: number[] = [];
    const extend = (from: number, to: number): void => {
      if (out.length > 0 && out[out.length - 1] === from) out[out.length - 1] = to;
      else out.push(from, to);
    };
    for (const index of [...this.chunks.keys()].sort((a, b) => a - b)) {
      const c = this.chunks.get(index)!;
      const base = index * CHUNK_SIZE;
      if (c === FULL) {
        extend(base, base + CHUNK_SIZE);
        continue;
      }
      let runFrom = -1;
      for (let b = 0; b <= CHUNK_SIZE; b++) {
        const set = b < CHUNK_SIZE && (c.words[b >>> 5]! & (1 << (b & 31))) !== 0;
        if (set && runFrom < 0) runFrom = b;
        else if (!set && runFrom >= 0) {
          extend(base + runFrom, base + b);
          runFrom = -1;
        }
      }
    }
    return out;
  }

  /** The set of `ranges()`' form; refuses a malformed list (odd length, unsorted, negative). */
  static fromRanges(ranges: readonly number[]): SeqSet {
    if (ranges.length % 2 !== 0) throw new RangeError(`sequence ranges: odd length ${ranges.length}`);
    const s = new SeqSet();
    let last = 0;
    for (let i = 0; i < ranges.length; i += 2) {
      const from = ranges[i]!;
      const to = ranges[i + 1]!;
      if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < last || to <= from) {
        throw new RangeError(`sequence ranges: [${from}, ${to}) after ${last} is not a sorted, non-empty range of whole numbers`);
      }
      s.addRange(from, to - from);
      last = to;
    }
    return s;
  }

  /** A new set of the members of every one of `sets`; none of them changes. */
  static union(...sets: SeqSet[]): SeqSet {
    const u = new SeqSet();
    for (const s of sets) u.addAll(s);
    return u;
  }

  /** Shares the snapshot's words: add to the result only if the snapshot is not used again. */
  static fromSnapshot(snap: SeqSetSnapshot): SeqSet {
    const s = new SeqSet();
    for (const [i, c] of snap) {
      if (c === FULL) {
        s.chunks.set(i, FULL);
        s.size += CHUNK_SIZE;
      } else {
        let count = 0;
        for (const w of c) count += popcount(w);
        s.chunks.set(i, { words: c, count });
        s.size += count;
      }
    }
    return s;
  }
}
