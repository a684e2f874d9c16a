/**
 * The lane as a data structure, single-threaded and deterministic: the writer and the
 * reader are driven step by step, so every interleaving is reproducible from its seed.
 */
import { describe, expect, it } from 'vitest';
import { CACHE_LINE, controlWords, FRAME_HEADER, frameBytes } from '../../src/adapters/ringbuffer/layout.ts';
import { LaneReader } from '../../src/adapters/ringbuffer/lane-reader.ts';
import { batchBytes, checkMessage, rng, testLane, type TestLane } from './helpers.ts';

/** Reads up to `max` and returns the seqs, or throws on bytes that are not a message. */
function readSeqs(t: TestLane, max: number): number[] {
  const b = t.reader.read(max);
  const seqs: number[] = [];
  for (let i = 0; i < b.count; i++) {
    const seq = checkMessage(b.buffer(i), b.offset(i), b.length(i));
    if (seq < 0) throw new Error(`message ${i} of the batch is corrupt`);
    seqs.push(seq);
  }
  return seqs;
}

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
const headOf = (t: TestLane): number => Atomics.load(t.lane.words, t.lane.at.head);
const tailOf = (t: TestLane): number => Atomics.load(t.lane.words, t.lane.at.tail);

describe('ring lane', () => {
  it('is empty when new, and again once everything is read and committed', () => {
    const t = testLane(256);
    expect(t.reader.hasData()).toBe(false);
    expect(t.reader.read(10).count).toBe(0);
    t.reader.commit();
    expect(headOf(t)).toBe(0);

    expect(t.writer.write(batchBytes(0, 4, 20), 0, 20, 4)).toBe(4);
    expect(t.reader.hasData()).toBe(true);
    expect(readSeqs(t, 10)).toEqual([0, 1, 2, 3]);
    expect(t.reader.hasData()).toBe(false);
    t.reader.commit();
    expect(headOf(t)).toBe(tailOf(t));
  });

  it('publishes a batch as one frame: the tail moves once, by header + messages + padding', () => {
    const t = testLane(1024);
    t.writer.write(batchBytes(0, 5, 13), 0, 13, 5);
    expect(tailOf(t)).toBe(frameBytes(5 * 13));
    expect(frameBytes(5 * 13)).toBe(FRAME_HEADER + 65 + 7);
  });

  it('writes what fits when full, refuses when nothing fits, and makes room on commit only', () => {
    const t = testLane(64);
    // 10 messages of 8 bytes need 88 bytes; 7 fit in 64 (8 header + 56).
    expect(t.writer.write(batchBytes(0, 10, 8), 0, 8, 10)).toBe(7);
    expect(t.writer.hasRoom(8)).toBe(false);
    expect(t.writer.write(batchBytes(7, 3, 8), 0, 8, 3)).toBe(0);

    expect(readSeqs(t, 3)).toEqual([0, 1, 2]);
    // Read but not committed: still no room.
    expect(t.writer.write(batchBytes(7, 3, 8), 0, 8, 3)).toBe(0);
    t.reader.commit();
    // Committing 3 of 7 frees their 24 bytes: a frame of 2 messages (8 + 16).
    expect(t.writer.write(batchBytes(7, 3, 8), 0, 8, 3)).toBe(2);
    // `first` picks up the rest of a partly written batch.
    expect(readSeqs(t, 100)).toEqual(range(3, 6));
    t.reader.commit();
    expect(t.writer.write(batchBytes(7, 3, 8), 2, 8, 1)).toBe(1);
    expect(readSeqs(t, 100)).toEqual([9]);
  });

  it('delivers a message that straddles the end from scratch, and the others as views of the lane', () => {
    const t = testLane(256);
    t.writer.write(batchBytes(0, 3, 50), 0, 50, 3); // 8 + 150 -> 160 bytes
    expect(readSeqs(t, 10)).toEqual([0, 1, 2]);
    t.reader.commit();
    // Next frame: header at 160, messages at 168, 218 (runs to 268: wraps at 256), 268 -> 12.
    expect(t.writer.write(batchBytes(3, 3, 50), 0, 50, 3)).toBe(3);
    const b = t.reader.read(10);
    expect(b.count).toBe(3);
    expect(b.buffer(0)).toBe(t.lane.data);
    expect(b.buffer(2)).toBe(t.lane.data);
    expect(b.buffer(1)).not.toBe(t.lane.data);
    expect([b.offset(0), b.offset(2)]).toEqual([168, 12]);
    for (let i = 0; i < 3; i++) {
      expect(b.length(i)).toBe(50);
      expect(checkMessage(b.buffer(i), b.offset(i), b.length(i))).toBe(3 + i);
    }
  });

  it('delivers messages of size 0', () => {
    const t = testLane(64);
    expect(t.writer.write(new Uint8Array(0), 0, 0, 5)).toBe(5);
    const b = t.reader.read(10);
    expect(b.count).toBe(5);
    for (let i = 0; i < 5; i++) expect(b.length(i)).toBe(0);
  });

  it('resumes from the committed head alone, also when the commit fell inside a frame', () => {
    const t = testLane(256);
    t.writer.write(batchBytes(0, 10, 9), 0, 9, 10);
    expect(readSeqs(t, 4)).toEqual([0, 1, 2, 3]);
    t.reader.commit();
    expect(readSeqs(t, 2)).toEqual([4, 5]); // read, never committed
    const restarted: TestLane = { ...t, reader: new LaneReader(t.lane) };
    expect(readSeqs(restarted, 100)).toEqual(range(4, 6));
  });

  it('puts head and tail on separate cache lines with padding on, on one line with padding off', () => {
    const line = (word: number): number => Math.floor((word * 4) / CACHE_LINE);
    const on = controlWords(true);
    const off = controlWords(false);
    expect(line(on.head)).not.toBe(line(on.tail));
    expect(line(on.consumerParked)).toBe(line(on.head));
    expect(line(on.producerParked)).toBe(line(on.tail));
    expect(line(off.head)).toBe(line(off.tail));
  });
});

interface ScheduleStats {
  moved: number;
  refusedFull: number;
  partialWrites: number;
  wrappedMessages: number;
  partialCommits: number;
  wrappedHeaders: number;
  restarts: number;
}

/**
 * A seeded random schedule of writes (random counts and sizes, partly written when the
 * lane is full), reads (random max), commits and consumer restarts from the committed
 * head. Checks every delivered message against a model: no loss, no duplicate, in order,
 * bytes intact. Returns what happened, so the caller can check the schedule reached the
 * interesting states.
 */
function runSchedule(seed: number, capacity: number, padded: boolean, startIndex: number, steps: number): ScheduleStats {
  const r = rng(seed);
  const t = testLane(capacity, padded, startIndex);
  const stats: ScheduleStats = { moved: 0, refusedFull: 0, partialWrites: 0, wrappedMessages: 0, partialCommits: 0, wrappedHeaders: 0, restarts: 0 };
  const sizes: number[] = []; // size of every seq written
  let delivered = 0; // next seq the reader must deliver
  let committed = 0;
  const errors: string[] = [];

  const consume = (max: number): void => {
    const b = t.reader.read(max);
    if (b.wrapped >= 0) stats.wrappedMessages++;
    for (let i = 0; i < b.count; i++) {
      const seq = checkMessage(b.buffer(i), b.offset(i), b.length(i));
      if (seq !== delivered || b.length(i) !== sizes[delivered]) {
        errors.push(`seed ${seed}: got seq ${seq} (length ${b.length(i)}), expected ${delivered} (length ${sizes[delivered]})`);
      }
      delivered++;
    }
  };
  const commit = (): void => {
    t.reader.commit();
    if (committed !== delivered && sizes.length !== delivered) stats.partialCommits++;
    committed = delivered;
    // Producer frames start 8-aligned, so a header across the end is one a commit rewrote.
    if ((headOf(t) & t.lane.mask) > capacity - FRAME_HEADER) stats.wrappedHeaders++;
  };

  for (let step = 0; step < steps && errors.length === 0; step++) {
    const op = r(20);
    if (op < 9) {
      const count = 1 + r(24);
      const size = 4 + r(60);
      const bytes = batchBytes(sizes.length, count, size);
      let done = 0;
      for (;;) {
        const n = t.writer.write(bytes, done, size, count - done);
        done += n;
        if (n === 0 || done === count) break;
      }
      if (done === 0) stats.refusedFull++;
      else if (done < count) stats.partialWrites++;
      for (let i = 0; i < done; i++) sizes.push(size);
      stats.moved += done * size;
    } else if (op < 18) {
      consume(1 + r(40));
      if (r(3) > 0) commit();
    } else if (op === 18) {
      commit();
    } else if (r(3) === 0) {
      t.reader = new LaneReader(t.lane);
      delivered = committed;
      stats.restarts++;
    }
  }
  while (errors.length === 0 && t.reader.hasData()) consume(64);
  commit();
  expect(errors.slice(0, 5)).toEqual([]);
  expect(delivered).toBe(sizes.length);
  expect(headOf(t)).toBe(tailOf(t));
  return stats;
}

describe('ring lane under random schedules', () => {
  const total = (list: ScheduleStats[], k: keyof ScheduleStats): number => list.reduce((s, x) => s + x[k], 0);

  for (const padded of [true, false]) {
    it(`keeps every message, once, in order (padding ${padded ? 'on' : 'off'})`, () => {
      const runs: ScheduleStats[] = [];
      for (let seed = 1; seed <= 40; seed++) runs.push(runSchedule(seed, seed % 2 === 0 ? 256 : 1024, padded, 0, 3000));
      // The schedules must have reached the cases they exist for.
      for (const k of ['refusedFull', 'partialWrites', 'wrappedMessages', 'partialCommits', 'wrappedHeaders', 'restarts'] as const) {
        expect(total(runs, k), k).toBeGreaterThan(0);
      }
    });
  }

  // Int32 indices wrap at 2^31 (sign) and 2^32; start just below each.
  for (const startIndex of [0x7fffff00, -256]) {
    it(`keeps indices exact across the Int32 wrap (start ${startIndex >>> 0})`, () => {
      const stats = runSchedule(7, 256, true, startIndex, 3000);
      expect(stats.moved).toBeGreaterThan(4096);
    });
  }
});
