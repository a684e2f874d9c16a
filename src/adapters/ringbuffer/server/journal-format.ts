/**
 * On-disk format of a lane's journal, shared by the writer and recovery.
 *
 * A lane's journal is a series of segment files, lane-LLLLL-OOOOOOOOOOOOOOOO.seg, named by
 * lane and the offset of their first message, each a sequence of records:
 *   u32 magic | u32 count | u32 size | u32 check | f64 firstOffset | f64 firstSeq | count*size bytes
 * `check` mixes the other header fields, so a header made of stale or zeroed bytes is
 * recognised as the end of the journal (a torn tail), not read as data.
 *
 * The consumer's committed offset is a separate file, lane-LLLLL.commit, holding one f64,
 * overwritten in place.
 */
import path from 'node:path';

export const RECORD_HEADER = 32;
const MAGIC = 0x314a4252; // "RBJ1"

export function segmentName(lane: number, firstOffset: number): string {
  return `lane-${String(lane).padStart(5, '0')}-${String(firstOffset).padStart(16, '0')}.seg`;
}

export function parseSegmentName(name: string): { lane: number; firstOffset: number } | undefined {
  const m = /^lane-(\d{5})-(\d{16})\.seg$/.exec(name);
  return m ? { lane: Number(m[1]), firstOffset: Number(m[2]) } : undefined;
}

export function commitFile(dir: string, lane: number): string {
  return path.join(dir, `lane-${String(lane).padStart(5, '0')}.commit`);
}

function check(count: number, size: number, firstOffset: number, firstSeq: number): number {
  let h = Math.imul(MAGIC ^ count, 0x9e3779b1);
  h = Math.imul(h ^ size, 0x85ebca6b);
  h = Math.imul(h ^ (firstOffset % 0x1_0000_0000), 0xc2b2ae35);
  h = Math.imul(h ^ Math.floor(firstOffset / 0x1_0000_0000), 0x27d4eb2f);
  h = Math.imul(h ^ (firstSeq % 0x1_0000_0000), 0x165667b1);
  h = Math.imul(h ^ Math.floor(firstSeq / 0x1_0000_0000), 0x9e3779b1);
  return (h ^ (h >>> 15)) >>> 0;
}

export function encodeRecordHeader(count: number, size: number, firstOffset: number, firstSeq: number): Buffer {
  const b = Buffer.allocUnsafe(RECORD_HEADER);
  b.writeUInt32LE(MAGIC, 0);
  b.writeUInt32LE(count, 4);
  b.writeUInt32LE(size, 8);
  b.writeUInt32LE(check(count, size, firstOffset, firstSeq), 12);
  b.writeDoubleLE(firstOffset, 16);
  b.writeDoubleLE(firstSeq, 24);
  return b;
}

export interface RecordHeader {
  count: number;
  size: number;
  firstOffset: number;
  firstSeq: number;
}

/** The record header at `at`, or undefined where the journal ends (too short, or not a header). */
export function readRecordHeader(buf: Buffer, at: number): RecordHeader | undefined {
  if (buf.length - at < RECORD_HEADER || buf.readUInt32LE(at) !== MAGIC) return undefined;
  const h = { count: buf.readUInt32LE(at + 4), size: buf.readUInt32LE(at + 8), firstOffset: buf.readDoubleLE(at + 16), firstSeq: buf.readDoubleLE(at + 24) };
  if (buf.readUInt32LE(at + 12) !== check(h.count, h.size, h.firstOffset, h.firstSeq)) return undefined;
  return h;
}
