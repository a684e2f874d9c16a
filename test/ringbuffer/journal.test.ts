/**
 * The journal on its own (no server process): group commit, segments rolled and deleted
 * once consumed, and recovery of what a kill -9 left: offsets, the committed offset, the
 * last sequence, and a torn tail cut off.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { LaneJournal } from '../../src/adapters/ringbuffer/server/journal.ts';
import { recoverLane } from '../../src/adapters/ringbuffer/server/recovery.ts';
import { batchBytes, checkMessage } from './helpers.ts';
import { removeTempDirs, tempDir } from './child-helpers.ts';
import { appendAll, journal, segments, SIZE } from './journal-helpers.ts';

const tmp = (): string => tempDir('busbench-journal-');

afterAll(removeTempDirs);

/**
 * Watches the journal's fdatasync calls (the real ones still run): `events` gets "sync" when
 * a sync has completed, in order with whatever the test logs there (its acks).
 */
function watchSyncs(events: string[]): { calls: () => number } {
  const real = fs.fdatasync;
  const spy = vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) =>
    real(fd, (err) => {
      events.push('sync');
      cb(err);
    })) as typeof fs.fdatasync);
  return { calls: () => spy.mock.calls.length };
}

/** Appends record `b` (5 messages from seq 5b); its ack logs "ack b" in `events`. */
function appendLogged(j: LaneJournal, b: number, events: string[]): Promise<void> {
  return new Promise((resolve) => {
    j.append(b * 5, b * 5, 5, SIZE, Buffer.from(batchBytes(b * 5, 5, SIZE)), () => {
      events.push(`ack ${b}`);
      resolve();
    });
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('ringbuffer journal', () => {
  it('acknowledges a group after one write and sync, and recovers it all', { timeout: 30_000 }, async () => {
    const dir = tmp();
    const { j, fatal } = journal(dir, 1 << 20);
    const events: string[] = [];
    const syncs = watchSyncs(events);
    const acked = Array.from({ length: 10 }, (_, b) => appendLogged(j, b, events));
    j.flush();
    await Promise.all(acked);
    // one sync for the whole group, completed before any of its ten acks
    expect(syncs.calls()).toBe(1);
    expect(events).toEqual(['sync', ...Array.from({ length: 10 }, (_, b) => `ack ${b}`)]);
    // an append while a group is being written waits for a sync of its own
    events.length = 0;
    const first = appendLogged(j, 10, events);
    j.flush();
    const second = appendLogged(j, 11, events);
    j.flush();
    await Promise.all([first, second]);
    expect(syncs.calls()).toBe(3);
    expect(events).toEqual(['sync', 'ack 10', 'sync', 'ack 11']);
    j.close();
    expect(fatal).toEqual([]);
    const r = recoverLane(dir, 3);
    expect(r).toMatchObject({ appended: 60, committed: 0, lastSeq: 59, truncated: 0 });
    const seqs = r.chunks.flatMap((c) => Array.from({ length: c.count }, (_, i) => checkMessage(c.bytes, i * SIZE, SIZE)));
    expect(seqs).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(recoverLane(dir, 4).appended).toBe(0);
  });

  it('rolls segments, deletes those consumed but keeps the one with the last record, and resumes after the commit', { timeout: 30_000 }, async () => {
    const dir = tmp();
    // A record of 5 x 16 bytes takes 112, a group of three 336: a second group would take
    // a 400-byte segment past its size, so each group starts a segment of its own.
    const { j } = journal(dir, 400);
    for (let g = 0; g < 4; g++) await appendAll(j, g * 15, 3, 5);
    expect(segments(dir)).toHaveLength(4);
    j.commit(45);
    j.writeCommit();
    // segments entirely before offset 45 are gone; the last one (offsets 45..59) stays
    expect(segments(dir)).toHaveLength(1);
    j.commit(60);
    j.writeCommit();
    expect(segments(dir)).toHaveLength(1);
    j.close();
    const r = recoverLane(dir, 3);
    expect(r).toMatchObject({ appended: 60, committed: 60, lastSeq: 59 });
    expect(r.chunks).toEqual([]);
    // appending after recovery continues the offsets
    const again = journal(dir, 400);
    await appendAll(again.j, 60, 1, 5);
    again.j.close();
    expect(recoverLane(dir, 3)).toMatchObject({ appended: 65, committed: 60, lastSeq: 64 });
  });

  it('cuts a torn tail off the last segment and keeps everything before it', { timeout: 30_000 }, async () => {
    const dir = tmp();
    const { j } = journal(dir, 1 << 20);
    await appendAll(j, 0, 4, 5);
    j.close();
    const seg = path.join(dir, segments(dir)[0]!);
    const whole = fs.statSync(seg).size;
    // half of a fifth record: its header and a few message bytes, as a kill mid-write leaves it
    const { j: j2 } = journal(dir, 1 << 20);
    await appendAll(j2, 20, 1, 5);
    j2.close();
    fs.truncateSync(seg, whole + 40);
    const r = recoverLane(dir, 3);
    expect(r).toMatchObject({ appended: 20, lastSeq: 19, truncated: 40 });
    expect(fs.statSync(seg).size).toBe(whole);
  });

  it('refuses a journal damaged before its last segment', { timeout: 30_000 }, async () => {
    const dir = tmp();
    const { j } = journal(dir, 200);
    for (let g = 0; g < 3; g++) await appendAll(j, g * 5, 1, 5);
    j.close();
    const first = path.join(dir, segments(dir)[0]!);
    const b = fs.readFileSync(first);
    b[0] = b[0]! ^ 0xff;
    fs.writeFileSync(first, b);
    expect(() => recoverLane(dir, 3)).toThrow(/damaged at byte 0 and later segments exist/);
  });
});
