/**
 * The append side of a lane's journal (format: journal-format.ts), with group commit:
 * appends queue up while the event loop handles whatever arrived, then one writev and
 * one fdatasync per lane cover all of them, and only then are they acknowledged. While a
 * write is in flight, new appends gather for the next one, so a slow disk means bigger
 * groups rather than a queue of syncs.
 *
 * fdatasync rather than fsync: the segment's size changes with every append, which
 * fdatasync flushes too; only timestamps are left behind.
 *
 * What a power loss can take, and why each loss is safe (a filesystem keeps only what a
 * sync covered; a new file's name, or a deletion, may be lost unless the directory is synced):
 * - Segment data is fdatasync'd before an append is acknowledged, and so before any of it
 *   is delivered or committed. A torn or lost tail was never acknowledged: recovery cuts it.
 * - The directory is fsynced when a segment is created, before anything in it is
 *   acknowledged (once per segment): fdatasync makes a new file's data durable, not its
 *   name, and the data could vanish with it. The same when the commit file is created (once
 *   per lane), so that syncing it (below) means something.
 * - The committed offset is overwritten in place (8 bytes at offset 0) without a sync: a
 *   sync per commit would cost every delivery. A power loss can leave it empty, short, or
 *   older; recovery reads any of those as an older commit, so what was handled since is
 *   delivered again, never lost. It is never newer than the durable segments: a commit only
 *   covers delivered messages, which were synced, names and all.
 * - Before a commit deletes segments, the commit file is fdatasync'd (at most once per
 *   segment, not per commit), so a deletion that reaches the disk is never ahead of the
 *   commit that justified it. Should the commit be lost all the same, recovery starts at the
 *   first remaining segment: a segment is only deleted once the commit has passed its end.
 * - The directory is not fsynced after a deletion: a lost one leaves a segment wholly before
 *   the durable commit, which recovery skips (a gap below the commit included) and the next
 *   commit deletes again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { commitFile, encodeRecordHeader, RECORD_HEADER, segmentName } from './journal-format.ts';
import type { Segment } from './recovery.ts';
import { BusbenchError } from '../../../core/errors.ts';

/** A new segment is started once the active one is this large, so consumed ones can be deleted. */
export const SEGMENT_BYTES = 64 * 1024 * 1024;

export class LaneJournal {
  private fd: number | undefined;
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  /** offset after the last queued record */
  private queuedEnd: number;
  private callbacks: Array<() => void> = [];
  private writing = false;
  /** offset after the last record on disk */
  private durableEnd: number;
  private commitFd: number | undefined;
  private commitDirty = -1;

  constructor(
    private readonly dir: string,
    private readonly lane: number,
    private readonly segments: Segment[],
    appended: number,
    /** a write or sync failed: the journal cannot keep its promise any more */
    private readonly onFatal: (err: Error) => void,
    private readonly segmentBytes = SEGMENT_BYTES,
  ) {
    this.queuedEnd = appended;
    this.durableEnd = appended;
  }

  /** Queues a record; `done` runs once it is written and synced. */
  append(firstOffset: number, firstSeq: number, count: number, size: number, payload: Buffer, done: () => void): void {
    this.queued.push(encodeRecordHeader(count, size, firstOffset, firstSeq), payload);
    this.queuedBytes += RECORD_HEADER + payload.length;
    this.queuedEnd = firstOffset + count;
    this.callbacks.push(done);
  }

  /** Runs `done` once everything appended so far is synced (now, if it already is). */
  whenDurable(done: () => void): void {
    if (this.queued.length === 0 && !this.writing) done();
    else this.callbacks.push(done);
  }

  /** Starts a group commit of everything queued, unless one is in flight (it chains). */
  flush(): void {
    if (this.writing) return;
    if (this.queued.length === 0) {
      this.runCallbacks(this.callbacks.splice(0));
      return;
    }
    const buffers = this.queued;
    const bytes = this.queuedBytes;
    const end = this.queuedEnd;
    const callbacks = this.callbacks;
    this.queued = [];
    this.queuedBytes = 0;
    this.callbacks = [];
    this.writing = true;
    let fd: number;
    try {
      fd = this.activeSegment(this.durableEnd, bytes);
    } catch (err) {
      this.onFatal(err as Error);
      return;
    }
    fs.writev(fd, buffers, (werr, written) => {
      if (werr || written !== bytes) return this.onFatal(werr ?? new BusbenchError('BROKER', `journal of lane ${this.lane}: wrote ${written} of ${bytes} bytes`));
      fs.fdatasync(fd, (serr) => {
        if (serr) return this.onFatal(serr);
        const seg = this.segments[this.segments.length - 1]!;
        seg.bytes += bytes;
        seg.endOffset = end;
        this.durableEnd = end;
        this.writing = false;
        this.runCallbacks(callbacks);
        if (this.queued.length > 0 || this.callbacks.length > 0) this.flush();
      });
    });
  }

  /** Records the consumer's committed offset and deletes segments it has gone past. */
  commit(offset: number): void {
    this.commitDirty = offset;
  }

  /** Writes a pending commit (once per event-loop turn, however many commits came). */
  writeCommit(): void {
    if (this.commitDirty < 0) return;
    const offset = this.commitDirty;
    this.commitDirty = -1;
    this.commitFd ??= this.openCommitFile();
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleLE(offset, 0);
    fs.writeSync(this.commitFd, b, 0, 8, 0);
    // Keep the segment holding the last record: its last sequence is what deduplication
    // recovers. Any other segment entirely before the commit is done with.
    const consumed = (): boolean => this.segments.length > 1 && this.segments[0]!.endOffset <= offset && this.segments[0]!.endOffset < this.durableEnd;
    if (!consumed()) return;
    // The commit must be on disk before a deletion can be (see the header).
    fs.fdatasyncSync(this.commitFd);
    while (consumed()) fs.rmSync(this.segments.shift()!.path, { force: true });
  }

  close(): void {
    for (const fd of [this.fd, this.commitFd]) if (fd !== undefined) fs.closeSync(fd);
    this.fd = undefined;
    this.commitFd = undefined;
  }

  /** The fd to append `bytes` at offset `firstOffset` to, starting a new segment when due. */
  private activeSegment(firstOffset: number, bytes: number): number {
    const last = this.segments[this.segments.length - 1];
    if (last && this.fd !== undefined && (last.bytes === 0 || last.bytes + bytes <= this.segmentBytes)) return this.fd;
    if (last && this.fd === undefined && last.bytes + bytes <= this.segmentBytes) {
      this.fd = fs.openSync(last.path, 'a');
      return this.fd;
    }
    if (this.fd !== undefined) fs.closeSync(this.fd);
    const file = path.join(this.dir, segmentName(this.lane, firstOffset));
    this.fd = fs.openSync(file, 'a');
    syncDirectory(this.dir);
    this.segments.push({ path: file, firstOffset, endOffset: firstOffset, bytes: 0 });
    return this.fd;
  }

  /** Opens the commit file without truncating it (an emptied file is what a power loss would keep). */
  private openCommitFile(): number {
    const file = commitFile(this.dir, this.lane);
    const created = !fs.existsSync(file);
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT);
    if (created) syncDirectory(this.dir);
    return fd;
  }

  private runCallbacks(callbacks: Array<() => void>): void {
    for (const cb of callbacks) cb();
  }
}

/** Makes the names of files created in `dir` durable (fdatasync covers a file's data, not its name). */
function syncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
