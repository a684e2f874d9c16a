import { describe, expect, it } from 'vitest';
import { crossCheck, withCrossCheck, type CrossCheckContext } from '../../src/checks/cross-check.ts';
import type { DeliveryCounts } from '../../src/core/result.ts';

const d: DeliveryCounts = { sent: 100, acked: 90, failed: 2, unknown: 8, received: 100, lost: 0, ackedLost: 0, unackedDelivered: 8, duplicated: 4, outOfOrder: 0 };
const plain: CrossCheckContext = { resent: 0, stages: 1, reconnected: false, restarted: false, durable: true };

describe('broker cross-check', () => {
  it('stored must lie within [acked, sent-failed]', () => {
    expect(crossCheck({ source: 's', stored: 95 }, d, plain)).toMatchObject({ agrees: true, note: 'broker stored 95, within [acked 90, sent-failed 98]' });
    expect(crossCheck({ source: 's', stored: 99 }, d, plain)).toMatchObject({ agrees: false, note: 'broker stored 99, outside [acked 90, sent-failed 98]' });
    expect(crossCheck({ source: 's', stored: 100 }, d, { ...plain, resent: 3 }).note).toBe('broker stored 100, within [acked 90, sent-failed+re-sent 101]');
  });

  it('after a restart only the lower bound holds, and a broker that is not durable is not judged', () => {
    expect(crossCheck({ source: 's', stored: 200 }, d, { ...plain, restarted: true }).agrees).toBe(true);
    expect(crossCheck({ source: 's', stored: 80 }, d, { ...plain, restarted: true }).note).toBe(
      'broker stored 80, fewer than acked 90 (no upper bound across a restart: unanswered sends are sent again)',
    );
    expect(crossCheck({ source: 's', stored: 0 }, d, { ...plain, restarted: true, durable: false })).toMatchObject({ agrees: null });
  });

  it('delivered must lie within [distinct received, deliveries] unless something moves the counter', () => {
    expect(crossCheck({ source: 's', delivered: 96 }, d, plain)).toMatchObject({ agrees: true, note: 'broker delivered 96, within [distinct received 96, deliveries 100]' });
    expect(crossCheck({ source: 's', delivered: 101 }, d, plain).agrees).toBe(false);
    expect(crossCheck({ source: 's', delivered: 1 }, d, { ...plain, reconnected: true }).note).toBe('broker delivered 1, not judged: consumers reconnected');
    expect(crossCheck({ source: 's', delivered: 1 }, d, { ...plain, stages: 3 }).agrees).toBeNull();
  });

  it('joins both checks; one disagreeing check disagrees; no count is no verdict', () => {
    const both = crossCheck({ source: 's', stored: 95, delivered: 101 }, d, plain);
    expect(both.agrees).toBe(false);
    expect(both.note).toBe('broker stored 95, within [acked 90, sent-failed 98]; broker delivered 101, outside [distinct received 96, deliveries 100]');
    expect(crossCheck({ source: 's' }, d, plain)).toEqual({ source: 's', agrees: null, note: 'the broker reported no count' });
  });

  it('a clean run whose broker disagrees becomes a warning; other statuses stay', () => {
    expect(withCrossCheck('ok', { source: 's', agrees: false })).toBe('warning');
    expect(withCrossCheck('ok', { source: 's', agrees: null })).toBe('ok');
    expect(withCrossCheck('delivery-errors', { source: 's', agrees: false })).toBe('delivery-errors');
    expect(withCrossCheck('ok', undefined)).toBe('ok');
  });
});
