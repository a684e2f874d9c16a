/** Shared test helpers: a seeded PRNG, checkable message bytes, a lane with both ends. */
import type { RunControl } from '../../src/core/contract.ts';
import { createDoorbells, createLane, doorbellIndex, openLane, type Lane } from '../../src/adapters/ringbuffer/layout.ts';
import { LaneReader } from '../../src/adapters/ringbuffer/lane-reader.ts';
import { LaneWriter } from '../../src/adapters/ringbuffer/lane-writer.ts';

/** mulberry32: small, seeded, good enough to pick schedules. */
export function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n: number): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n) | 0;
  };
}

/** A message of `size` >= 4 bytes: seq as u32 LE, then bytes derived from seq. */
export function fillMessage(buf: Uint8Array, off: number, seq: number, size: number): void {
  buf[off] = seq;
  buf[off + 1] = seq >>> 8;
  buf[off + 2] = seq >>> 16;
  buf[off + 3] = seq >>> 24;
  for (let k = 4; k < size; k++) buf[off + k] = (seq * 31 + k * 7) & 0xff;
}

/** The seq a message carries, or -1 when its bytes are not exactly what fillMessage wrote. */
export function checkMessage(buf: Uint8Array, off: number, size: number): number {
  const seq = (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0;
  for (let k = 4; k < size; k++) if (buf[off + k] !== ((seq * 31 + k * 7) & 0xff)) return -1;
  return seq;
}

/** `count` messages of `size` bytes from `firstSeq`, laid end to end like a harness batch. */
export function batchBytes(firstSeq: number, count: number, size: number): Uint8Array {
  const b = new Uint8Array(count * size);
  for (let i = 0; i < count; i++) fillMessage(b, i * size, firstSeq + i, size);
  return b;
}

export interface TestLane {
  sab: SharedArrayBuffer;
  lane: Lane;
  writer: LaneWriter;
  reader: LaneReader;
  bell: Int32Array;
}

export function testLane(capacity: number, padded = true, startIndex = 0): TestLane {
  const sab = createLane(capacity, padded, startIndex);
  const lane = openLane(sab, padded);
  const bell = new Int32Array(createDoorbells(1));
  return { sab, lane, writer: new LaneWriter(lane, bell, doorbellIndex(0)), reader: new LaneReader(lane), bell };
}

/** A RunControl that starts stopping after `afterPolls` calls (Infinity: never). */
export function controlStoppingAfter(afterPolls: number): RunControl & { polls: number } {
  return {
    polls: 0,
    stopping() {
      return ++this.polls > afterPolls;
    },
  };
}

export const NEVER_STOP: RunControl = { stopping: () => false };
