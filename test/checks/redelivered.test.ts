import { describe, expect, it } from 'vitest';
import { ConsumerLedger, ProducerLedger, reconcile } from '../../src/checks/ledger.ts';

describe('repeat deliveries in the ledger', () => {
  it('tells a redelivery to the same consumer from a message that reached a second consumer', () => {
    const p = new ProducerLedger(0);
    p.sent = 100;
    p.acked(0, 100);
    const a = new ConsumerLedger(0);
    const b = new ConsumerLedger(1);
    for (let s = 0; s < 60; s++) a.record(0, s);
    for (let s = 60; s < 100; s++) b.record(0, s);
    // a gets 3 of its own again (ack wait ran out); b gets 2 that a already had
    for (const s of [5, 6, 7]) expect(a.record(0, s)).toBe(false);
    for (const s of [10, 11]) expect(b.record(0, s)).toBe(true);
    const v = reconcile([p.snapshot()], [a.snapshot(), b.snapshot()]);
    expect(v.counts).toMatchObject({ received: 105, duplicated: 5, redelivered: 3, lost: 0 });
    expect(v.problems).toContain('5 duplicate deliveries (2 at a second consumer)');
  });
});
