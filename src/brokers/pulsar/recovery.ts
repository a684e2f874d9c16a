/**
 * A ledger the restarted standalone could not recover, found in its log. With one bookie
 * there is no second copy: when the journal replayed a torn last entry, ledger recovery
 * reads it back, its digest fails, and the topic never loads again. A count of lost
 * messages alone would hide that the service itself is gone, so the broker's own line is
 * reported.
 *
 * The messages, as BookKeeper 4.17 (Pulsar 4.0's) and Pulsar's managed ledger write them:
 *   ManagedLedgerImpl     "[<name>] Failed to open ledger 5: Error while recovering ledger"
 *   ManagedCursorImpl     "[<name>] Error opening metadata ledger 7 for cursor <c>: Error while recovering ledger"
 *   LedgerRecoveryOp      "Failure -5 while reading entries: (0 - 0), ledger: 5 while recovering ledger"
 *                         "Failure -5 while writing entry: 3 while recovering ledger: 5"
 *   ReadLastConfirmedOp   "Mac mismatch for ledger: 5, entry: -1 while reading last entry from bookie: <id>"
 *   DigestManager         "Digest mismatch for ledger-id: 5, entry-id: -1" (CRC digests)
 *                         "Mac mismatch for ledger-id: 5, entry-id: -1" (HMAC digests)
 */

export interface RecoveryFailure {
  ledger: number;
  /** the log line that says so, whitespace-trimmed */
  line: string;
}

/**
 * Most conclusive first: the managed ledger giving up on the ledger is the verdict; a
 * digest mismatch is its cause, reported only when the verdict line is missing (a log cut
 * short by kill -9, or a Pulsar that words it differently).
 */
const PATTERNS: readonly RegExp[] = [
  /Failed to open ledger (\d+): Error while recovering ledger/,
  /Error opening metadata ledger (\d+) for cursor .*Error while recovering ledger/,
  /ledger: (\d+) while recovering ledger/,
  /while recovering ledger: (\d+)/,
  /Mac mismatch for ledger:? (\d+), entry:? -?\d+ while reading last entry/,
  /(?:Digest|Mac) mismatch for ledger-id: (\d+)/,
];

export function findRecoveryFailure(log: string): RecoveryFailure | undefined {
  const lines = log.split('\n');
  for (const pattern of PATTERNS) {
    for (const line of lines) {
      const ledger = pattern.exec(line)?.[1];
      if (ledger !== undefined) return { ledger: Number(ledger), line: line.trim() };
    }
  }
  return undefined;
}

/** Long enough for the logger, thread and message; Pulsar's lines can run to kilobytes. */
const LINE_CHARS = 300;

/** "service not restored: ledger 5 could not be recovered (<the line>)", or undefined when the log says nothing of the kind. */
export function serviceNotRestored(log: string): string | undefined {
  const failure = findRecoveryFailure(log);
  if (!failure) return undefined;
  const line = failure.line.length > LINE_CHARS ? `${failure.line.slice(0, LINE_CHARS)}…` : failure.line;
  return `service not restored: ledger ${failure.ledger} could not be recovered (${line})`;
}
