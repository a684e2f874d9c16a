/**
 * The torn bookie journal record, reproduced: a Pulsar standalone writing full 128 KiB
 * batches (each journal record larger than the 64 KiB write buffer, so several writes),
 * then a power cut in torn mode. The journal's last write keeps only its part up to a
 * 4 KiB boundary, the rest reads as the pre-allocation's zeros; BookKeeper replays the
 * record anyway, ledger recovery fails its digest, and the topic never loads again.
 * busbench must say so in the broker's own words, and the journal check must find the
 * torn record in the run folder. journalSync off, so that the journal's last write is
 * never fsynced and the cut always finds it: with journalSync on the record is torn only
 * when the cut falls between a journal write and its fsync (2 of 3 runs here; the README
 * has the table), which a test cannot rely on.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/pulsar/index.ts';
import { runOnce } from '../../src/harness/runner.ts';
import { fuseProblem } from '../../src/brokers/powerfs/index.ts';
import { journalFiles, scanJournalFile } from '../../src/brokers/pulsar/journal.ts';
import { removeRunDirs, runSpec } from '../fixtures/run-spec.ts';

const why = fuseProblem();
const skip = why !== undefined && process.env.CI !== 'true';
afterAll(removeRunDirs);

describe.skipIf(skip)(`pulsar after a torn power cut${skip ? ` (skipped: ${why})` : ''}`, () => {
  it('reports the ledger that could not be recovered, and the journal holds the torn record', { timeout: 600_000 }, async () => {
    expect(why, 'the power-loss layer must run in CI').toBeUndefined();
    // A torn-mode cut keeps the journal's last write up to a 4 KiB boundary; when that write
    // was a small record of its own (the layer dropped ~3 KiB of a .txn file, 2 of 4 runs on
    // 2026-12-03), nothing of it is left to read and no record is torn. That run says
    // nothing about busbench's report of a torn record, so the cut is tried again, up to 3
    // times; a run that does leave a torn record must be reported as the broker says it.
    for (let attempt = 1; ; attempt++) {
      const spec = runSpec(
        adapter,
        { journalSync: 'off', batchMaxDelayMs: 10, sendTimeoutMs: 10_000 },
        {
          ratePerSec: 0,
          load: { durationMs: 6000, warmupMs: 1000, drainTimeoutMs: 10_000, maxInFlight: 5000, batchSize: 128 },
          fault: { atMs: 2000, downtimeMs: 0, kind: { type: 'power-loss', mode: 'torn' } },
        },
      );
      const r = await runOnce(spec);
      const d = r.durability!;
      expect(d, r.error).toMatchObject({ injected: true, faultType: 'power-loss', level: 'process-crash' });
      expect((d.layer as { tornFiles: string[] }).tornFiles.some((f) => f.endsWith('.txn'))).toBe(true);
      const torn = journalFiles(path.join(spec.runDir, 'pulsar'))
        .map((f) => scanJournalFile(f))
        .flatMap((j) => j.torn);
      if (torn.length === 0 && attempt < 3) continue;
      expect(torn.length, `no torn journal record in ${attempt} cuts`).toBeGreaterThan(0);
      expect(torn[0]!.zeroTail + torn[0]!.missing).toBeGreaterThan(0);
      expect(d.serviceProblem).toMatch(/^service not restored: ledger \d+ could not be recovered \(.*(Error while recovering ledger|mismatch)/);
      break;
    }
  });
});
