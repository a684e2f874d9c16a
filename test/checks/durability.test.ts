import { describe, expect, it } from 'vitest';
import { judgeDurability } from '../../src/checks/durability.ts';
import type { DeliveryCounts } from '../../src/core/result.ts';

const caps = (durable: boolean) => ({ durable, acks: true, perProducerOrdering: true, deduplication: false, transactions: false, idempotencyRecord: 'message-id' as const });
const counts = (ackedLost: number, duplicated = 0): DeliveryCounts => ({
  sent: 100, acked: 100, failed: 0, unknown: 0, received: 100 - ackedLost + duplicated, lost: ackedLost, ackedLost, unackedDelivered: 0, duplicated, outOfOrder: 0,
});
const fault = { fault: 'kill -9 of nats-server', injected: true, killNs: 5e9, restartedNs: 6.5e9 };

describe('durability verdict', () => {
  it('a durable configuration that lost acknowledged messages broke its promise', () => {
    const f = judgeDurability(caps(true), counts(3), fault, { publishNs: 7e9, deliveryNs: 7.25e9 }, 2e9);
    expect(f.promiseKept).toBe(false);
    expect(f.ackedLost).toBe(3);
    expect(f.rtoMs).toBe(2250);
    expect(f.rtoPublishMs).toBe(2000);
    expect(f.restartMs).toBe(1500);
    expect(f.killAtMs).toBe(3000);
  });

  it('a memory-only configuration reports its loss without claiming a broken promise', () => {
    const f = judgeDurability(caps(false), counts(40), fault, { publishNs: 7e9, deliveryNs: 7e9 }, 2e9);
    expect(f.promise).toBe('none (not durable)');
    expect(f.promiseKept).toBe(true);
    expect(f.ackedLost).toBe(40);
  });

  it('names the fault and does not claim more than kill -9 shows', () => {
    const f = judgeDurability(caps(true), counts(0, 5), fault, { publishNs: 0, deliveryNs: 0 }, 2e9);
    expect(f.note).toMatch(/page cache/);
    expect(f.duplicates).toBe(5);
    expect(f.rtoMs).toBeNull();
  });
});
