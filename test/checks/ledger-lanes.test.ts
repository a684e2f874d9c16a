/**
 * Order per lane: where a system orders a producer's messages only per partition (or per
 * key), the ledger checks order within each lane, and still catches reordering inside one.
 */
import { describe, expect, it } from 'vitest';
import { ConsumerLedger, ProducerLedger, reconcile } from '../../src/checks/ledger.ts';

describe('delivery ledger with lanes', () => {
  it('takes two partitions interleaved as in order, and catches a step back within one', () => {
    const p = new ProducerLedger(0);
    p.sent = 8;
    p.acked(0, 8);
    const c = new ConsumerLedger(0);
    // batches [0,1] [4,5] went to lane 1, [2,3] [6,7] to lane 2; lane 2 arrives first
    for (const [seq, lane] of [[2, 2], [3, 2], [0, 1], [6, 2], [1, 1], [4, 1], [7, 2], [5, 1]] as const) c.record(0, seq, lane);
    expect(reconcile([p.snapshot()], [c.snapshot()]).counts.outOfOrder).toBe(0);

    const one = new ConsumerLedger(0);
    for (const [seq, lane] of [[0, 1], [2, 2], [1, 2], [3, 1]] as const) one.record(0, seq, lane);
    const v = reconcile([p.snapshot()], [one.snapshot()]);
    expect(v.counts.outOfOrder).toBe(1); // 1 after 2 in lane 2
    expect(v.problems).toContain('1 messages out of order within a producer');
  });

  it('without lanes (lane 0) keeps the per-producer check', () => {
    const c = new ConsumerLedger(0);
    for (const seq of [2, 3, 0, 1]) c.record(0, seq);
    const p = new ProducerLedger(0);
    p.sent = 4;
    p.acked(0, 4);
    expect(reconcile([p.snapshot()], [c.snapshot()]).counts.outOfOrder).toBe(2);
  });
});
