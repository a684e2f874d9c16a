/**
 * Checks bookie journals for a torn record, the cause of "ledger N could not be recovered":
 *
 *   npx tsx bench/bookie-journal.ts <journal.txn | folder>
 *
 * A folder is searched for *.txn files to any depth: a run folder, a native broker's
 * <dir>/pulsar, or its data/bookkeeper. Prints one line per journal file (records, the
 * last one, and whether a record is torn). Exit code 1 when a journal holds a torn or
 * invalid record, 2 on bad input, 0 otherwise.
 */
import { exitCodeFor, UsageError } from '../src/core/errors.ts';
import { journalDamaged, journalFiles, journalSummary, scanJournalFile } from '../src/brokers/pulsar/journal.ts';

function main(args: string[]): number {
  if (args.length !== 1 || args[0] === '--help' || args[0] === '-h') throw new UsageError('usage: npx tsx bench/bookie-journal.ts <journal.txn | folder>');
  const files = journalFiles(args[0]!);
  if (files.length === 0) throw new UsageError(`${args[0]}: no bookie journal (*.txn) under it`);
  let damaged = false;
  for (const file of files) {
    const scan = scanJournalFile(file);
    damaged ||= journalDamaged(scan);
    console.log(`${file}: ${journalSummary(scan)}`);
  }
  return damaged ? 1 : 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = exitCodeFor(err);
}
