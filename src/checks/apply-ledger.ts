/**
 * The exactly-once ledger: how many times the consumer's state took in each
 * (producer, sequence). It is written by the harness next to every state update and is
 * never read by the mechanism under test (the idempotency record, a transaction, a
 * broker's deduplication), so the verdict does not depend on the thing it judges.
 */
import { SeqSet, type SeqSetSnapshot } from './seqset.ts';

export interface ApplyLedgerSnapshot {
  perProducer: Array<{ producerId: number; applied: SeqSetSnapshot; appliedTwice: SeqSetSnapshot; extraApplications: number }>;
  /** the consumer's state at the end: balance per account */
  balances: number[];
  /** deliveries the idempotency record recognised and skipped */
  skipped: number;
}

interface ProducerApplications {
  applied: SeqSet;
  appliedTwice: SeqSet;
  extra: number;
}

export class ApplyLedger {
  private readonly streams: Array<ProducerApplications | undefined> = [];

  record(producerId: number, seq: number): void {
    let s = this.streams[producerId];
    if (s === undefined) {
      s = { applied: new SeqSet(), appliedTwice: new SeqSet(), extra: 0 };
      this.streams[producerId] = s;
    }
    if (!s.applied.add(seq)) {
      s.appliedTwice.add(seq);
      s.extra++;
    }
  }

  snapshot(balances: Float64Array, skipped: number): ApplyLedgerSnapshot {
    const perProducer: ApplyLedgerSnapshot['perProducer'] = [];
    this.streams.forEach((s, producerId) => {
      if (s) perProducer.push({ producerId, applied: s.applied.snapshot(), appliedTwice: s.appliedTwice.snapshot(), extraApplications: s.extra });
    });
    return { perProducer, balances: [...balances], skipped };
  }
}

/** The account a message moves money on: fixed by its id, so the expected state can be rebuilt. */
export function accountFor(producerId: number, seq: number, accounts: number): number {
  return (producerId * 1_000_003 + seq) % accounts;
}
