/**
 * The journal through a power cut, not just a kill -9: what was not synced is gone (see
 * power-cut.ts), and recovery must still start, keep every acknowledged message, and start
 * delivering at a commit no later than the true one. The journal here has 4 segments of 15
 * messages each (offsets 0, 15, 30, 45), one per group of three 5-message records.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { commitFile } from '../../src/adapters/ringbuffer/server/journal-format.ts';
import { LaneLog } from '../../src/adapters/ringbuffer/server/lane-log.ts';
import { recoverLane, type RecoveredLane } from '../../src/adapters/ringbuffer/server/recovery.ts';
import { checkMessage } from './helpers.ts';
import { range, removeTempDirs, tempDir } from './child-helpers.ts';
import { appendAll, journal, LANE, segments, SIZE } from './journal-helpers.ts';
import { POWER_CUT, watchPowerCut } from './power-cut.ts';

afterAll(removeTempDirs);
afterEach(() => {
  vi.restoreAllMocks();
});


/** A journal of 60 messages in 4 segments, closed; `watch` sees it being written. */
async function fourSegments(dir: string, commit?: number): Promise<void> {
  const { j, fatal } = journal(dir, 400);
  for (let g = 0; g < 4; g++) await appendAll(j, g * 15, 3, 5);
  if (commit !== undefined) {
    j.commit(commit);
    j.writeCommit();
  }
  j.close();
  expect(fatal).toEqual([]);
}

/** The seqs a restarted server would deliver first, from the lane restored as it restores it. */
function redelivered(r: RecoveredLane): number[] {
  const lane = new LaneLog(1 << 20, false);
  lane.restore(r.committed, r.appended, r.lastSeq, r.chunks);
  const slice = lane.read(lane.committed, 1000);
  if (!slice) return [];
  const bytes = Buffer.concat(slice.parts);
  return range(0, slice.count).map((i) => checkMessage(bytes, i * SIZE, SIZE));
}

const f64 = (v: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v, 0);
  return b;
};

describe('ringbuffer journal through a power cut', () => {
  // Fails on the code before: no directory sync, so the cut takes every segment's name.
  it('keeps every acknowledged message: each new segment (and the commit file) is named durably before its first ack', { timeout: 30_000 }, async () => {
    const dir = tempDir('busbench-journal-cut-');
    const power = watchPowerCut(dir);
    const { j } = journal(dir, 400);
    for (let g = 0; g < 4; g++) {
      await appendAll(j, g * 15, 3, 5);
      // the ack came after the new segment's name was synced
      expect(power.events.filter((e) => e === 'dirsync')).toHaveLength(g + 1);
    }
    j.commit(10);
    j.writeCommit();
    power.cut();
    const r = recoverLane(dir, LANE);
    expect(r).toMatchObject({ appended: 60, lastSeq: 59, truncated: 0 });
    // the unsynced commit of 10 is gone: everything is delivered again
    expect(r.committed).toBe(0);
    expect(redelivered(r)).toEqual(range(0, 60));
  });

  // Fails on the code before (no sync: the cut leaves an empty commit file, recovered as 0),
  // and with recovery's lower bound alone (it would say 15, the first segment left).
  it('syncs the commit before deleting a segment: a cut right after the deletion keeps the commit that justified it', { timeout: 30_000 }, async () => {
    const dir = tempDir('busbench-journal-cut-');
    await fourSegments(dir);
    const power = watchPowerCut(dir);
    const { j } = journal(dir, 400);
    power.failAfterNextDelete();
    j.commit(50);
    expect(() => j.writeCommit()).toThrow(POWER_CUT);
    // the commit file is new here: its name first, then its contents, then the deletion
    expect(power.events).toEqual(['dirsync', `sync ${path.basename(commitFile(dir, LANE))}`, 'rm lane-00003-0000000000000000.seg']);
    power.cut();
    const r = recoverLane(dir, LANE);
    expect(r).toMatchObject({ committed: 50, appended: 60, lastSeq: 59 });
    expect(redelivered(r)).toEqual(range(50, 60));
    // The segments the cut kept (15..29, 30..44) are deleted at the next commit; a commit
    // that deletes nothing syncs nothing.
    const again = watchPowerCut(dir);
    const restarted = journal(dir, 400);
    restarted.j.commit(52);
    restarted.j.writeCommit();
    expect(again.events).toEqual([`sync ${path.basename(commitFile(dir, LANE))}`, 'rm lane-00003-0000000000000015.seg', 'rm lane-00003-0000000000000030.seg']);
    restarted.j.commit(53);
    restarted.j.writeCommit();
    expect(again.events).toHaveLength(3);
    restarted.j.close();
    expect(segments(dir)).toEqual(['lane-00003-0000000000000045.seg']);
  });

  // Each case fails on the code before: it recovered 0, 0, 15, NaN and 0, so a restarted
  // server delivered from an offset it no longer had (garbage, or for NaN nothing at all).
  it.each([
    ['empty', Buffer.alloc(0)],
    ['3 bytes long', Buffer.from([1, 2, 3])],
    ['older than the first segment left', f64(15)],
    ['not an offset', f64(Number.NaN)],
    ['negative', f64(-1)],
  ])('recovers from a commit file %s: starts at the first segment left and delivers again what it holds', { timeout: 30_000 }, async (_, bytes) => {
    const dir = tempDir('busbench-journal-cut-');
    // segments before 45 deleted; the commit that deleted them then lost
    await fourSegments(dir, 45);
    expect(segments(dir)).toHaveLength(1);
    fs.writeFileSync(commitFile(dir, LANE), bytes);
    const r = recoverLane(dir, LANE);
    expect(r).toMatchObject({ committed: 45, appended: 60, lastSeq: 59 });
    expect(r.appended - r.committed).toBe(15);
    expect(redelivered(r)).toEqual(range(45, 60));
    // and the journal goes on from there
    const { j } = journal(dir, 400);
    await appendAll(j, 60, 1, 5);
    j.commit(62);
    j.writeCommit();
    j.close();
    expect(recoverLane(dir, LANE)).toMatchObject({ committed: 62, appended: 65, lastSeq: 64 });
  });

  // Passes on the code before too (kept as it was): an older commit within the segments left.
  it('recovers from a commit file holding an older value within what remains: delivers again from there', { timeout: 30_000 }, async () => {
    const dir = tempDir('busbench-journal-cut-');
    await fourSegments(dir, 40);
    fs.writeFileSync(commitFile(dir, LANE), f64(35));
    const r = recoverLane(dir, LANE);
    expect(r).toMatchObject({ committed: 35, appended: 60 });
    expect(redelivered(r)).toEqual(range(35, 60));
  });

  // Fails on the code before: it refused the gap as damage.
  it('takes a gap below the commit for deletions that reached the disk out of order, and still refuses one above it', { timeout: 30_000 }, async () => {
    const dir = tempDir('busbench-journal-cut-');
    await fourSegments(dir);
    fs.rmSync(path.join(dir, 'lane-00003-0000000000000015.seg'));
    fs.writeFileSync(commitFile(dir, LANE), f64(50));
    const r = recoverLane(dir, LANE);
    expect(r).toMatchObject({ committed: 50, appended: 60, lastSeq: 59 });
    expect(redelivered(r)).toEqual(range(50, 60));
    const { j } = journal(dir, 400);
    j.commit(55);
    j.writeCommit();
    j.close();
    expect(segments(dir)).toEqual(['lane-00003-0000000000000045.seg']);
    const damaged = tempDir('busbench-journal-cut-');
    await fourSegments(damaged);
    fs.rmSync(path.join(damaged, 'lane-00003-0000000000000030.seg'));
    fs.writeFileSync(commitFile(damaged, LANE), f64(20));
    expect(() => recoverLane(damaged, LANE)).toThrow(/starts at offset 45, expected 30/);
  });

  // Passes on the code before too (kept as it was).
  it('still refuses a commit past what the journal stores: no power cut makes one', { timeout: 30_000 }, async () => {
    const dir = tempDir('busbench-journal-cut-');
    await fourSegments(dir);
    fs.writeFileSync(commitFile(dir, LANE), f64(61));
    expect(() => recoverLane(dir, LANE)).toThrow(/committed offset 61 is past the 60 messages stored/);
  });
});
