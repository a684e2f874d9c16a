/**
 * Which messages any consumer of the run has received, shared by every consumer thread:
 * one bit per (producer, sequence) in shared memory, set with Atomics.or. It lets a
 * consumer tell a first delivery from a message another consumer already had (a broker
 * redelivering to a different member of the group, or a broadcast), so that throughput,
 * the e2e histogram and the drain count each message once, the union across consumers.
 *
 * Only runs with more than one consumer use it: a single consumer's own ledger is the
 * union. It costs one bit per message sent (125 MB per billion per producer), because a
 * redelivery can repeat any earlier message and a window would have to guess how old.
 */

/** sequences below 2^32: the envelope's sequence field */
const MAX_BYTES = 2 ** 29;
/** the buffers grow in steps of this many bytes (512 Ki sequences) */
const STEP_BYTES = 1 << 16;

// ES2022's lib has no growable SharedArrayBuffer, which Node (V8 11) has.
interface GrowableBuffer extends SharedArrayBuffer {
  grow(newByteLength: number): void;
}
const Growable = SharedArrayBuffer as unknown as new (byteLength: number, options: { maxByteLength: number }) => GrowableBuffer;

/** One growable buffer per producer; handed to the consumer workers. */
export function createFirstSeen(producers: number): SharedArrayBuffer[] {
  return Array.from({ length: producers }, () => new Growable(STEP_BYTES, { maxByteLength: MAX_BYTES }));
}

export class FirstSeen {
  private readonly buffers: GrowableBuffer[];
  /**
   * fixed-length views, replaced when a sequence lies beyond them: a length-tracking view
   * or reading a growable buffer's byteLength costs tens of ns per message
   */
  private readonly words: Int32Array[];

  constructor(buffers: SharedArrayBuffer[]) {
    this.buffers = buffers as GrowableBuffer[];
    this.words = buffers.map((b) => new Int32Array(b, 0, b.byteLength >>> 2));
  }

  /**
   * Marks the message; true when no consumer had marked it before. A message this run
   * cannot hold (unknown producer, sequence out of range) is reported by reconcile() and
   * counts as first here, so a bad envelope never throws in the hot path.
   */
  mark(producerId: number, seq: number): boolean {
    let words = this.words[producerId];
    if (words === undefined || !(seq >= 0 && seq < MAX_BYTES * 8)) return true;
    const word = seq >>> 5;
    if (word >= words.length) words = this.extend(producerId, word);
    const bit = 1 << (seq & 31);
    return (Atomics.or(words, word, bit) & bit) === 0;
  }

  private extend(producerId: number, word: number): Int32Array {
    const buffer = this.buffers[producerId]!;
    // another consumer may have grown it already
    if (word * 4 >= buffer.byteLength) growTo(buffer, word * 4 + 4);
    const words = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
    this.words[producerId] = words;
    return words;
  }
}

function growTo(buffer: GrowableBuffer, bytes: number): void {
  const target = Math.min(MAX_BYTES, Math.ceil(bytes / STEP_BYTES) * STEP_BYTES);
  // Two consumers may grow at once, and grow() refuses to shrink: the loser reads the
  // winner's length. Anything else (no memory) fails the worker.
  for (let attempt = 0; buffer.byteLength < bytes; attempt++) {
    try {
      buffer.grow(Math.max(target, buffer.byteLength));
    } catch (err) {
      if (attempt >= 2 && buffer.byteLength < bytes) throw err;
    }
  }
}
