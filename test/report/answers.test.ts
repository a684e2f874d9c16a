/**
 * Duplicate answers and discarded entries in what a reader sees, and result files from
 * before those counts, which must load and show nothing for them.
 */
import { describe, expect, it } from 'vitest';
import { summaryTable } from '../../src/report/render/console.ts';
import { describeDelivery } from '../../src/report/render/describe.ts';
import { readResultFile } from '../../src/report/io/files.ts';
import { runResult, systemResult, tmpDir, writeResult } from './fixtures.ts';

const stream = { isTTY: false } as NodeJS.WriteStream;

describe('duplicate answers and discarded entries in the report', () => {
  it('shows them where non-zero, and marks the delivery cell', () => {
    const s = systemResult({ system: 'pulsar' });
    s.delivery = { ...s.delivery, ackedAsDuplicate: 40, lostBehindDuplicate: 16, discardedEntries: 2, lost: 16 + 200 };
    const text = summaryTable(runResult([s]), stream);
    expect(text).toContain('pulsar: 40 acked only as duplicates (the system said it already held them from an earlier send); 16 of them never arrived: lost behind a duplicate answer');
    expect(text).toContain('pulsar: 2 entries discarded by the consumers');
    const cell = describeDelivery([s]);
    expect(cell.bad).toBe(true);
    expect(cell.text).toContain('2 entries discarded');
    expect(cell.detail).toContain('lost behind a duplicate answer 16');
  });

  it('loads a result file from before the counts and shows nothing for them', () => {
    const s = systemResult({ system: 'nats' });
    const file = writeResult(tmpDir(), 'old.json', runResult([s]));
    const r = readResultFile(file);
    expect('ackedAsDuplicate' in r.systems[0]!.delivery).toBe(false);
    const text = summaryTable(r, stream);
    expect(text).not.toMatch(/duplicates|discarded/);
    expect(describeDelivery(r.systems).bad).toBe(false);
  });
});
