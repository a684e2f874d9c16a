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

/** The faults that actually happened in the run, as numbers a test or a reader can check. */
export interface FaultCounts {
  /** messages the producers sent again as after a lost ack */
  resent: number;
  /** consumer crashes between processing a delivery and acknowledging it */
  consumerCrashes: number;
  /** pipeline stage crashes between forwarding and acknowledging */
  stageCrashes: number;
  /** broker kill -9s that completed (a planned kill that never happened counts 0) */
  brokerKills: number;
}

export interface ExactlyOnceFinding {
  guarantee: string;
  /** what kept (or was meant to keep) each message applied once */
  mechanism: string;
  /** messages the state took in more than once */
  appliedTwice: number;
  /** acknowledged messages the state never took in */
  neverApplied: number;
  /** distinct messages applied */
  applied: number;
  /** applications beyond the first, summed */
  extraApplications: number;
  /** applied although the producer never got an ack (allowed: the ack may have been lost) */
  unackedApplied: number;
  /** deliveries the consumer's idempotency record recognised as already applied */
  skippedByRecord: number;
  /** accounts whose balance differs from the exactly-once state */
  accountsWrong: number;
  /** the final state equals the exactly-once state */
  stateCorrect: boolean;
  /** filled in when the scenario also ran at-least-once on the same system: its throughput / this one's */
  costRatio: number | null;
  /** p99 end-to-end latency of this run / that of the at-least-once run */
  costRatioP99: number | null;
  comparedWith: string | null;
  /** the faults for people to read; `faultCounts` holds the same as numbers */
  faults: string[];
  faultCounts: FaultCounts;
}

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
    const acked = SeqSet.fromSnapshot(p.acked);
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
