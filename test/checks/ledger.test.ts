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

  it('tells a loss behind a duplicate answer from an acked loss', () => {
    const p = new ProducerLedger(0);
    p.sent = 30;
    p.acked(0, 10);
    // timed out, then a resend answered "already held" below the high-water mark: never stored
    p.unknown(10, 10, 'no receipt within 30000 ms');
    p.duplicate(10, 10);
    p.acked(20, 10);
    const c = new ConsumerLedger(0);
    for (let s = 0; s < 10; s++) c.record(0, s);
    for (let s = 20; s < 30; s++) c.record(0, s);
    const v = reconcile([p.snapshot()], [c.snapshot()]);
    expect(v.counts).toMatchObject({ acked: 20, ackedAsDuplicate: 10, lostBehindDuplicate: 10, ackedLost: 0, unknown: 0, lost: 10, unackedDelivered: 0 });
    expect(v.problems.join('\n')).toMatch(/producer 0: 10 lost behind a duplicate answer: the system said it already held them .* \(e\.g\. seq 10, 11, 12, 13, 14\)/);
    expect(v.problems.join('\n')).not.toMatch(/acknowledged messages never arrived/);
  });

  it('a duplicate answer that was true is no problem, and one to a resend of an acked message adds nothing', () => {
    const p = new ProducerLedger(1);
    p.sent = 20;
    p.acked(0, 10);
    p.unknown(10, 10, 'connection lost'); // stored, but the receipt was lost
    p.duplicate(10, 10); // the resend: "already held"
    p.duplicate(0, 5); // a deliberate retry of acked ones
    p.resent = 5;
    const c = new ConsumerLedger(0);
    for (let s = 0; s < 20; s++) c.record(1, s);
    const v = reconcile([p.snapshot()], [c.snapshot()]);
    expect(v.problems).toEqual([]);
    expect(v.counts).toMatchObject({ acked: 10, ackedAsDuplicate: 10, lostBehindDuplicate: 0, unknown: 0, lost: 0, unackedDelivered: 0 });
  });

  it('an acked message lost stays an acked loss even when a retry was answered as a duplicate', () => {
    const p = new ProducerLedger(0);
    p.sent = 10;
    p.acked(0, 10);
    p.duplicate(5, 5);
    const c = new ConsumerLedger(0);
    for (let s = 0; s < 5; s++) c.record(0, s);
    const v = reconcile([p.snapshot()], [c.snapshot()]);
    expect(v.counts).toMatchObject({ ackedLost: 5, ackedAsDuplicate: 0, lostBehindDuplicate: 0 });
  });

  it('counts entries the consumers discarded, and names why; without a word from them, no count', () => {
    const p = new ProducerLedger(0);
    p.sent = 10;
    p.acked(0, 10);
    const c = new ConsumerLedger(0);
    for (let s = 0; s < 6; s++) c.record(0, s);
    const v = reconcile([p.snapshot()], [c.snapshot()], [{ entries: 1, reasons: ['checksum mismatch'] }, { entries: 0, reasons: [] }]);
    expect(v.counts.discardedEntries).toBe(1);
    expect(v.problems).toContain('1 entries discarded: checksum mismatch (the consumer acknowledged them undelivered; their messages count as lost)');
    const clean = reconcile([p.snapshot()], [c.snapshot()], [{ entries: 0, reasons: [] }]);
    expect(clean.counts.discardedEntries).toBe(0);
    expect(clean.problems.join()).not.toMatch(/discarded/);
    expect('discardedEntries' in reconcile([p.snapshot()], [c.snapshot()]).counts).toBe(false);
  });
});
