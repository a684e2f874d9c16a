import { describe, expect, it } from 'vitest';
import { faultsOf, heldNote, latencyProblems, mechanismOf, statusOf, type ExactlyOncePlan } from '../../src/checks/verdict.ts';
import type { DeliveryCounts } from '../../src/core/result.ts';

const plan: ExactlyOncePlan = { guarantee: 'exactly-once', stages: 1, retryEveryMs: 200, crashEveryMs: 1000, behaviour: 'correct' };
const eo = { guarantee: 'exactly-once', appliedTwice: 0, neverApplied: 0, stateCorrect: true };
const counts = { resent: 5, consumerCrashes: 2, stageCrashes: 1, brokerKills: 0 };

describe('run status', () => {
  it('without a fault or the exactly-once scenario, the ledger decides', () => {
    expect(statusOf(true, undefined, undefined)).toBe('ok');
    expect(statusOf(false, undefined, undefined)).toBe('delivery-errors');
  });

  it('under a fault only a broken durability promise fails the run', () => {
    expect(statusOf(false, { promiseKept: true }, undefined)).toBe('ok');
    expect(statusOf(true, { promiseKept: false }, undefined)).toBe('delivery-errors');
    expect(statusOf(true, { promiseKept: true, error: 'no kill' }, undefined)).toBe('delivery-errors');
  });

  it('exactly-once fails on a double application; at-least-once only on a message never applied', () => {
    expect(statusOf(false, undefined, eo)).toBe('ok');
    expect(statusOf(true, undefined, { ...eo, appliedTwice: 1 })).toBe('delivery-errors');
    expect(statusOf(true, undefined, { ...eo, guarantee: 'at-least-once', appliedTwice: 3, stateCorrect: false })).toBe('ok');
    expect(statusOf(true, undefined, { ...eo, guarantee: 'at-least-once', neverApplied: 1 })).toBe('delivery-errors');
    expect(statusOf(true, { promiseKept: false }, eo)).toBe('delivery-errors');
  });
});

describe('exactly-once notes', () => {
  it('names the mechanism', () => {
    const caps = { deduplication: true, transactions: true };
    expect(mechanismOf({ ...plan, guarantee: 'at-least-once' }, caps, 'r')).toBe('none: at-least-once (every delivery applied)');
    expect(mechanismOf(plan, caps, 'message id')).toBe('the system drops re-sent (producer, sequence); consumer: message id');
    expect(mechanismOf({ ...plan, stages: 3 }, { deduplication: false, transactions: false }, 'r')).toBe(
      'no deduplication in the system; consumer: r; stages forward, then ack after the downstream ack',
    );
  });

  it('lists each planned fault with how often it happened', () => {
    expect(faultsOf(plan, counts, false)).toEqual([
      'producer retries: 5 messages re-sent as after a lost ack',
      'consumer crashes between processing and acknowledging: 2',
    ]);
    expect(faultsOf({ ...plan, stages: 2, behaviour: 'drop' }, counts, true)).toEqual([
      'producer retries: 5 messages re-sent as after a lost ack',
      'consumer crashes between processing and acknowledging: 2',
      'stage crashes between forwarding and acknowledging: 1',
      'broker kill -9 and restart: 0 (see durability)',
      'deliberately broken consumer: drop',
    ]);
  });
});

describe('problems beside the numbers', () => {
  const d = (lost: number, held?: number): DeliveryCounts => ({
    sent: 10, acked: 10, failed: 0, unknown: 0, received: 10 - lost, lost, ackedLost: lost, unackedDelivered: 0, duplicated: 0, outOfOrder: 0,
    ...(held !== undefined ? { undeliveredAtDeadline: held } : {}),
  });

  it('held messages bound how many losses are unproven', () => {
    expect(heldNote(d(3))).toBeUndefined();
    expect(heldNote(d(0, 5))).toBeUndefined();
    expect(heldNote(d(3, 2))).toBe(
      'the broker still held 2 messages (undelivered or unacknowledged) at the drain deadline: up to 2 of the 3 counted lost (3 acked) may still arrive, not proven lost',
    );
  });

  it('names negative and clamped latencies', () => {
    expect(latencyProblems({ e2e: { clamped: 0, negative: 2 }, publish: { clamped: 1, negative: 0 } })).toEqual([
      '2 negative e2e latencies (clock error)',
      '1 publish latencies above 10 min recorded as 10 min',
    ]);
  });
});
