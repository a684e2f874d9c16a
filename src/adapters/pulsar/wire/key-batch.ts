/**
 * Key-based batching, as the Java client's BatcherBuilder.KEY_BASED: one open batch per
 * key, so every entry carries one key. A Key_Shared subscription dispatches an entry
 * whole, by its key; an entry of mixed keys would reach one consumer with keys that
 * belong to others, and per-key order across consumers would no longer hold.
 *
 * The open batches fill and go together: the limits (messages, bytes) count all of them,
 * and flushing one flushes all, as BatchMessageKeyBasedContainer does.
 *
 * Sequence ids. A key's batch holds sequences that are not consecutive (round-robin keys
 * put 0, 1000, 2000 … in one batch). Broker deduplication keeps, per producer, the highest
 * sequence id stored, and drops an entry whose sequence_id is not above it; with
 * [sequence_id, highest_sequence_id] = [first, last] the overlapping ranges of two key
 * batches would drop the second. So, like the Java client, each entry is sent with its
 * highest sequence as sequence_id (and as highest_sequence_id), and a flush sends its
 * entries in ascending order of it: each entry's id is above the previous one's. A
 * message at or below a sequence already open flushes everything first (a re-send of an
 * old sequence is then its own entry, which deduplication answers as such).
 */
import { EntryBuilder, type BuiltEntry } from './batch.ts';
import { varintSize } from './fastcodec.ts';
import type { Codec } from './compression.ts';

/** One key's open batch: the sequences it holds, sent under its highest. */
class KeyEntryBuilder extends EntryBuilder {
  private seqs: number[] = [];

  override add(src: Uint8Array, off: number, n: number, seq: number): void {
    super.add(src, off, n, seq);
    this.seqs.push(seq);
  }

  override finish(publishTime: number): BuiltEntry {
    const key = this.key;
    const seqs = this.seqs;
    this.firstSeq = this.lastSeq;
    const built = super.finish(publishTime);
    this.key = key;
    this.seqs = [];
    return { ...built, seqs };
  }
}

/** A key batch starts small: a key space of thousands would otherwise hold 64 KiB per key. */
const KEY_BATCH_INITIAL_BYTES = 1024;

export class KeyBatcher {
  private readonly open = new Map<string, KeyEntryBuilder>();
  /** finished builders, scratch buffers kept, for the next keys */
  private readonly spare: KeyEntryBuilder[] = [];
  private readonly encoder = new TextEncoder();
  /** messages in all open batches */
  count = 0;
  /** payload bytes in all open batches */
  size = 0;
  /** highest sequence open, -1 when nothing is */
  highestSeq = -1;

  constructor(
    private producerName: Uint8Array,
    private readonly producerId: number,
    /** compresses each key's entry, as the producer's own batches are */
    private readonly codec: Codec | null = null,
  ) {}

  /** The broker named the producer (no name of ours): later entries carry its name. */
  rename(producerName: Uint8Array): void {
    this.producerName = producerName;
    this.spare.length = 0;
  }

  /** Payload bytes a message of `n` bytes with this key and sequence adds. */
  static costOf(key: string, n: number, seq: number): number {
    const keyLen = Buffer.byteLength(key);
    return EntryBuilder.costOf(true, n, seq) + 1 + varintSize(keyLen) + keyLen;
  }

  /** Appends a copy of src[off, off+n) to its key's batch; seq must be above highestSeq. */
  add(key: string, src: Uint8Array, off: number, n: number, seq: number): void {
    if (seq <= this.highestSeq) throw new Error(`KeyBatcher: sequence ${seq} is not above the open ${this.highestSeq}; flush first`);
    let b = this.open.get(key);
    if (!b) {
      b = this.spare.pop() ?? new KeyEntryBuilder(true, this.producerName, this.producerId, KEY_BATCH_INITIAL_BYTES);
      b.key = this.encoder.encode(key);
      b.codec = this.codec;
      this.open.set(key, b);
    }
    const before = b.size;
    b.add(src, off, n, seq);
    this.size += b.size - before;
    this.count++;
    this.highestSeq = seq;
  }

  /** Every open batch as an entry, in ascending order of the sequence id it is sent with; empties the batcher. */
  finishAll(publishTime: number): BuiltEntry[] {
    const entries: BuiltEntry[] = [];
    for (const b of this.open.values()) {
      entries.push(b.finish(publishTime));
      this.spare.push(b);
    }
    this.open.clear();
    this.count = this.size = 0;
    this.highestSeq = -1;
    return entries.sort((a, b) => a.firstSeq - b.firstSeq);
  }
}

/** Calls `fn` once per run of consecutive sequences in ascending `seqs`. */
export function forEachRun(seqs: readonly number[], fn: (first: number, count: number) => void): void {
  let i = 0;
  while (i < seqs.length) {
    let j = i + 1;
    while (j < seqs.length && seqs[j] === seqs[j - 1]! + 1) j++;
    fn(seqs[i]!, j - i);
    i = j;
  }
}
