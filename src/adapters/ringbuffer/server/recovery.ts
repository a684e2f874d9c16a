/**
 * Reads a lane's journal back after a restart: what it stored (appended), where its
 * consumer had got to (committed), its last sequence (for deduplication), and the
 * messages from the committed offset on, which go back into memory to be delivered.
 *
 * A kill -9 can leave the last record of the last segment half-written; that tail was
 * never acknowledged (the ack waits for the fsync after the write) and is cut off. A
 * broken record anywhere else means the journal is damaged: the server refuses to start
 * rather than silently drop what follows.
 *
 * A power loss can also take the commit file's last writes, which were not synced (see
 * journal.ts): whatever it then holds, if it is not an offset, or one before the first
 * remaining segment, recovery starts at that segment (every deleted segment was committed)
 * and delivers again what was handled since, rather than refuse to start. Segment deletions
 * may reach the disk in any order: a gap wholly before the committed offset is what they
 * left, not damage.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Chunk } from './lane-log.ts';
import { commitFile, parseSegmentName, readRecordHeader, RECORD_HEADER } from './journal-format.ts';
import { BusbenchError } from '../../../core/errors.ts';

export interface Segment {
  path: string;
  firstOffset: number;
  /** offset after its last record */
  endOffset: number;
  bytes: number;
}

export interface RecoveredLane {
  segments: Segment[];
  committed: number;
  appended: number;
  lastSeq: number;
  chunks: Chunk[];
  /** bytes of a torn tail that were cut off */
  truncated: number;
}

/** The committed offset in the commit file; 0 (deliver all again) if there is none to read. */
function readCommitted(dir: string, lane: number): number {
  let b: Buffer;
  try {
    b = fs.readFileSync(commitFile(dir, lane));
  } catch {
    return 0;
  }
  const offset = b.length >= 8 ? b.readDoubleLE(0) : 0;
  return Number.isSafeInteger(offset) && offset >= 0 ? offset : 0;
}

export function recoverLane(dir: string, lane: number): RecoveredLane {
  const names = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  const found = names
    .map((n) => ({ n, p: parseSegmentName(n) }))
    .filter((x) => x.p?.lane === lane)
    .sort((a, b) => a.p!.firstOffset - b.p!.firstOffset);
  // Segments are deleted only once committed: the first one left bounds the commit from below.
  const committed = Math.max(readCommitted(dir, lane), found[0]?.p!.firstOffset ?? 0);
  const out: RecoveredLane = { segments: [], committed, appended: 0, lastSeq: -1, chunks: [], truncated: 0 };
  let expected: number | undefined;
  for (let k = 0; k < found.length; k++) {
    const file = path.join(dir, found[k]!.n);
    const firstOffset = found[k]!.p!.firstOffset;
    const deletedGap = expected !== undefined && expected < firstOffset && firstOffset <= committed;
    if (expected !== undefined && firstOffset !== expected && !deletedGap) throw new BusbenchError('BROKER', `journal of lane ${lane}: ${file} starts at offset ${firstOffset}, expected ${expected}`);
    const buf = fs.readFileSync(file);
    let at = 0;
    let next = firstOffset;
    while (at < buf.length) {
      const h = readRecordHeader(buf, at);
      const end = h ? at + RECORD_HEADER + h.count * h.size : Number.POSITIVE_INFINITY;
      if (!h || h.firstOffset !== next || end > buf.length) break;
      if (next + h.count > out.committed) {
        // Copied out of the segment buffer, so the rest of the file is not kept alive.
        const skip = Math.max(0, out.committed - next);
        const from = at + RECORD_HEADER + skip * h.size;
        out.chunks.push({ firstOffset: next + skip, count: h.count - skip, size: h.size, firstSeq: h.firstSeq + skip, bytes: Buffer.from(buf.subarray(from, end)) });
      }
      if (h.firstSeq + h.count - 1 > out.lastSeq) out.lastSeq = h.firstSeq + h.count - 1;
      next += h.count;
      at = end;
    }
    if (at < buf.length) {
      if (k !== found.length - 1) throw new BusbenchError('BROKER', `journal of lane ${lane}: ${file} is damaged at byte ${at} and later segments exist`);
      fs.truncateSync(file, at);
      out.truncated = buf.length - at;
    }
    out.segments.push({ path: file, firstOffset, endOffset: next, bytes: at });
    expected = next;
  }
  out.appended = expected ?? 0;
  // A commit can only cover what was delivered, and only stored messages are delivered:
  // synced, and their segment's name too (journal.ts), so no power loss leads here either.
  if (out.committed > out.appended) throw new BusbenchError('BROKER', `journal of lane ${lane}: committed offset ${out.committed} is past the ${out.appended} messages stored`);
  return out;
}
