import { describe, expect, it } from 'vitest';
import { ConsumerLedger, ProducerLedger, reconcile } from '../../src/checks/ledger.ts';

describe('delivery ledger', () => {
  it('is clean when everything sent was acked and received once, in order', () => {
    const p = new ProducerLedger(0);
    p.sent = 1000;
    p.acked(0, 1000);
    const c = new ConsumerLedger(0);
    for (let s = 0; s < 1000; s++) c.record(0, s);
    const v = reconcile([p.snapshot()], [c.snapshot()]);
    expect(v.problems).toEqual([]);
    expect(v.counts).toMatchObject({ sent: 1000, acked: 1000, received: 1000, lost: 0, duplicated: 0, outOfOrder: 0 });
  });

  it('separates acked losses, failures, unknowns and unacked deliveries', () => {
    const p = new ProducerLedger(3);
    p.sent = 100;
    p.acked(0, 80);
    p.failed(80, 10, 'rejected');
    p.unknown(90, 10, 'timeout');
    const c = new ConsumerLedger(0);
    for (let s = 0; s < 70; s++) c.record(3, s); // 10 acked ones lost
    for (let s = 90; s < 95; s++) c.record(3, s); // 5 unknown ones arrived
    const v = reconcile([p.snapshot()], [c.snapshot()]);
    expect(v.counts.ackedLost).toBe(10);
    expect(v.counts.failed).toBe(10);
    expect(v.counts.unknown).toBe(10);
    expect(v.counts.unackedDelivered).toBe(5);
    expect(v.counts.lost).toBe(10 + 5); // 10 acked + 5 unknown never received; failed ones are not lost
  });

  it('counts the same message at two consumers as a duplicate, and reordering per consumer', () => {
    const p = new ProducerLedger(0);
    p.sent = 10;
    p.acked(0, 10);
    const a = new ConsumerLedger(0);
    const b = new ConsumerLedger(1);
    for (let s = 0; s < 10; s++) a.record(0, s);
    b.record(0, 4);
    a.record(0, 2); // duplicate at the same consumer
    const c = new ConsumerLedger(2);
    c.record(0, 9);
    c.record(0, 8); // out of order
    const v = reconcile([p.snapshot()], [a.snapshot(), b.snapshot(), c.snapshot()]);
    expect(v.counts.duplicated).toBe(1 + 1 + 2);
    expect(v.counts.outOfOrder).toBe(1);
    expect(v.problems.join()).toMatch(/duplicate/);
  });

  it('flags messages from producers that never existed and double acks', () => {
    const p = new ProducerLedger(0);
    p.sent = 2;
    p.acked(0, 2);
    p.acked(1, 1);
    const c = new ConsumerLedger(0);
    c.record(0, 0);
    c.record(0, 1);
    c.record(5, 0);
    const v = reconcile([p.snapshot()], [c.snapshot()]);
    expect(v.problems.join('\n')).toMatch(/producer 5/);
    expect(v.problems.join('\n')).toMatch(/acknowledged twice/);
  });
});
