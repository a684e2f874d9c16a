import { describe, expect, it } from 'vitest';
import { judgeExactlyOnce } from '../../src/checks/exactly-once.ts';
import { ApplyLedger, accountFor } from '../../src/checks/apply-ledger.ts';
import { ProducerLedger } from '../../src/checks/ledger.ts';
import { qtyFor } from '../../src/core/envelope.ts';

const ACCOUNTS = 7;
const context = { guarantee: 'exactly-once', mechanism: 'test', faults: [], faultCounts: { resent: 0, consumerCrashes: 0, stageCrashes: 0, brokerKills: 0 } };

function applied(seqs: number[]): ReturnType<ApplyLedger['snapshot']> {
  const ledger = new ApplyLedger();
  const balances = new Float64Array(ACCOUNTS);
  for (const s of seqs) {
    ledger.record(0, s);
    balances[accountFor(0, s, ACCOUNTS)]! += qtyFor(s);
  }
  return ledger.snapshot(balances, 0);
}

describe('exactly-once verdict', () => {
  it('holds a duplicate answer to its word: acknowledged, so it must be applied', () => {
    const p = new ProducerLedger(0);
    p.sent = 4;
    p.acked(0, 2);
    p.duplicate(2, 2); // "already held": the producer will never send 2 and 3 again
    const missing = judgeExactlyOnce([p.snapshot()], applied([0, 1]), ACCOUNTS, context);
    expect(missing.neverApplied).toBe(2);
    const all = judgeExactlyOnce([p.snapshot()], applied([0, 1, 2, 3]), ACCOUNTS, context);
    expect(all).toMatchObject({ neverApplied: 0, unackedApplied: 0, stateCorrect: true });
  });
});
