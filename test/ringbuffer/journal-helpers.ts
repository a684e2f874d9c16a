/**
 * A lane journal on its own (no server process), for tests: lane 3, 16-byte messages, and
 * segments small enough to roll in a test.
 */
import fs from 'node:fs';
import { LaneJournal } from '../../src/adapters/ringbuffer/server/journal.ts';
import { recoverLane } from '../../src/adapters/ringbuffer/server/recovery.ts';
import { batchBytes } from './helpers.ts';

export const SIZE = 16;
export const LANE = 3;

/** The segment files in `dir`, in offset order. */
export const segments = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();

/** The journal of lane 3 in `dir`, recovered as the server would, and the fatal errors it reports. */
export function journal(dir: string, segmentBytes: number): { j: LaneJournal; fatal: Error[] } {
  const fatal: Error[] = [];
  const r = recoverLane(dir, LANE);
  return { j: new LaneJournal(dir, LANE, r.segments, r.appended, (e) => fatal.push(e), segmentBytes), fatal };
}

/** Appends batches of `count` messages from seq/offset `from`, then one group commit; resolves once all are acked. */
export function appendAll(j: LaneJournal, from: number, batches: number, count: number): Promise<number> {
  return new Promise((resolve) => {
    let acked = 0;
    for (let b = 0; b < batches; b++) {
      const first = from + b * count;
      j.append(first, first, count, SIZE, Buffer.from(batchBytes(first, count, SIZE)), () => {
        acked++;
        if (acked === batches) resolve(acked);
      });
    }
    j.flush();
  });
}
