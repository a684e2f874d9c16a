import { describe, expect, it } from 'vitest';
import { judgeDurability, promisedAcross, type FaultOutcome } from '../../src/checks/durability.ts';
import type { Capabilities, DurabilityLevel } from '../../src/core/contract.ts';
import type { DeliveryCounts } from '../../src/core/result.ts';

const caps = (durability: DurabilityLevel): Capabilities => ({ durability, acks: true, perProducerOrdering: true, deduplication: false, transactions: false, idempotencyRecord: 'message-id' });
const counts = (ackedLost: number, duplicated = 0): DeliveryCounts => ({
  sent: 100, acked: 100, failed: 0, unknown: 0, received: 100 - ackedLost + duplicated, lost: ackedLost, ackedLost, unackedDelivered: 0, duplicated, outOfOrder: 0,
});
const fault: FaultOutcome = { fault: 'kill -9 of nats-server', kind: { type: 'kill' }, injected: true, killNs: 5e9, restartedNs: 6.5e9 };
const powerLoss: FaultOutcome = {
  fault: 'power loss under nats-server',
  kind: { type: 'power-loss', mode: 'lose-unsynced' },
  injected: true,
  killNs: 5e9,
  restartedNs: 6.5e9,
  cut: { mode: 'lose-unsynced', bytesDropped: 81920, filesAffected: 2, tornFiles: [] },
};

describe('durability verdict', () => {
  it('a durable configuration that lost acknowledged messages broke its promise', () => {
    const f = judgeDurability(caps('process-crash'), counts(3), fault, { publishNs: 7e9, deliveryNs: 7.25e9 }, 2e9);
    expect(f.promiseKept).toBe(false);
    expect(f.ackedLost).toBe(3);
    expect(f.rtoMs).toBe(2250);
    expect(f.rtoPublishMs).toBe(2000);
    expect(f.restartMs).toBe(1500);
    expect(f.killAtMs).toBe(3000);
  });

  it('a memory-only configuration reports its loss without claiming a broken promise', () => {
    const f = judgeDurability(caps('none'), counts(40), fault, { publishNs: 7e9, deliveryNs: 7e9 }, 2e9);
    expect(f.promise).toBe('none (not durable)');
    expect(f.promiseKept).toBe(true);
    expect(f.ackedLost).toBe(40);
  });

  it('names the fault and does not claim more than kill -9 shows', () => {
    const f = judgeDurability(caps('process-crash'), counts(0, 5), fault, { publishNs: 0, deliveryNs: 0 }, 2e9);
    expect(f.note).toMatch(/page cache/);
    expect(f.duplicates).toBe(5);
    expect(f.rtoMs).toBeNull();
  });

  it('a power loss holds only the power-loss level to its count', () => {
    // process-crash durability never promised to survive a power cut: a loss is a finding
    const weak = judgeDurability(caps('process-crash'), counts(12), powerLoss, { publishNs: 0, deliveryNs: 0 }, 2e9);
    expect(weak).toMatchObject({ faultType: 'power-loss', level: 'process-crash', promiseKept: true, ackedLost: 12 });
    expect(weak.promise).toMatch(/not a power loss/);
    expect(weak.layer).toEqual(powerLoss.cut);
    expect(weak.note).toMatch(/dropped 81920 unsynced bytes in 2 files/);
    // fsync before the ack promised exactly this
    const strong = judgeDurability(caps('power-loss'), counts(1), powerLoss, { publishNs: 0, deliveryNs: 0 }, 2e9);
    expect(strong.promiseKept).toBe(false);
    expect(judgeDurability(caps('power-loss'), counts(0), powerLoss, { publishNs: 0, deliveryNs: 0 }, 2e9).promiseKept).toBe(true);
  });

  it('ranks the levels: power-loss durability covers kill -9 too, process-crash durability only kill -9', () => {
    expect(promisedAcross('none', 'kill')).toBe(false);
    expect(promisedAcross('process-crash', 'kill')).toBe(true);
    expect(promisedAcross('process-crash', 'power-loss')).toBe(false);
    expect(promisedAcross('power-loss', 'kill')).toBe(true);
    expect(promisedAcross('power-loss', 'power-loss')).toBe(true);
  });

  it('a message lost behind a duplicate answer breaks a durable promise, and is named apart from acked lost', () => {
    const d: DeliveryCounts = { ...counts(0), acked: 90, ackedAsDuplicate: 10, lostBehindDuplicate: 10, lost: 10, received: 90 };
    const f = judgeDurability(caps('process-crash'), d, fault, { publishNs: 0, deliveryNs: 0 }, 2e9);
    expect(f).toMatchObject({ promiseKept: false, ackedLost: 0, lostBehindDuplicate: 10 });
    // memory only: a finding, not a broken promise
    expect(judgeDurability(caps('none'), d, fault, { publishNs: 0, deliveryNs: 0 }, 2e9)).toMatchObject({ promiseKept: true, lostBehindDuplicate: 10 });
  });

  it('carries the broker’s own word on a service that did not come back', () => {
    const problem = 'service not restored: ledger 5 could not be recovered (Digest mismatch)';
    const f = judgeDurability(caps('process-crash'), counts(0), { ...powerLoss, serviceProblem: problem }, { publishNs: 0, deliveryNs: 0 }, 2e9);
    expect(f.serviceProblem).toBe(problem);
  });
});
