/**
 * The exactly-once verdict: the consumer's final state against the state that applying
 * every acknowledged message exactly once would have produced. Unacknowledged messages
 * (no answer, a lost connection) may or may not have been stored, so either outcome is
 * right for them, but once at most.
 */
import { qtyFor } from '../core/envelope.ts';
import type { ProducerLedgerSnapshot } from './ledger.ts';
import { SeqSet } from './seqset.ts';
import { accountFor, type ApplyLedgerSnapshot } from './apply-ledger.ts';
import type { ExactlyOnceFinding, FaultCounts } from '../core/result.ts';

/** re-exported: the verdict's callers take its types from here */
export type { ExactlyOnceFinding, FaultCounts };

export function judgeExactlyOnce(
  producers: ProducerLedgerSnapshot[],
  applications: ApplyLedgerSnapshot,
  accounts: number,
  context: { guarantee: string; mechanism: string; faults: string[]; faultCounts: FaultCounts },
): ExactlyOnceFinding {
  const expected = new Float64Array(accounts);
  let appliedTwice = 0;
  let neverApplied = 0;
  let applied = 0;
  let extra = 0;
  let unackedApplied = 0;
  const byProducer = new Map(applications.perProducer.map((p) => [p.producerId, p]));
  for (const p of producers) {
    // A duplicate answer acknowledges too: the producer will not send that message again.
    const acked = SeqSet.union(SeqSet.fromSnapshot(p.acked), SeqSet.fromSnapshot(p.duplicate));
    const mine = byProducer.get(p.producerId);
    const done = mine ? SeqSet.fromSnapshot(mine.applied) : new SeqSet();
    if (mine) {
      appliedTwice += SeqSet.fromSnapshot(mine.appliedTwice).size;
      extra += mine.extraApplications;
    }
    applied += done.size;
    neverApplied += acked.countMissingFrom(done);
    unackedApplied += done.countMissingFrom(acked);
    for (let seq = 0; seq < p.sent; seq++) {
      if (done.has(seq) || acked.has(seq)) expected[accountFor(p.producerId, seq, accounts)]! += qtyFor(seq);
    }
  }
  let accountsWrong = 0;
  for (let a = 0; a < accounts; a++) if ((applications.balances[a] ?? 0) !== expected[a]) accountsWrong++;
  return {
    guarantee: context.guarantee,
    mechanism: context.mechanism,
    appliedTwice,
    neverApplied,
    applied,
    extraApplications: extra,
    unackedApplied,
    skippedByRecord: applications.skipped,
    accountsWrong,
    stateCorrect: accountsWrong === 0,
    costRatio: null,
    costRatioP99: null,
    comparedWith: null,
    faults: context.faults,
    faultCounts: { ...context.faultCounts },
  };
}
