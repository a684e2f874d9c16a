/**
 * A ramp on a real nats-server through the real runner: every measured interval offers
 * the ramp at its midpoint (intendedPerSec rising), and what the producer handed over and
 * the consumer received in it follows the ramp.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/nats/index.ts';
import { runOnce } from '../../src/harness/runner.ts';
import type { RateSchedule } from '../../src/core/rate-profile.ts';
import { removeRunDirs, runSpec } from '../fixtures/run-spec.ts';

afterAll(removeRunDirs);

describe('a rate ramp on NATS', { timeout: 60_000 }, () => {
  it('1k → 5k over 2 s: intervals offer the ramp, and sent and received follow it', async () => {
    const rateSchedule: RateSchedule = { kind: 'ramp', segments: [{ durationMs: 2000, fromPerSec: 1000, toPerSec: 5000 }] };
    const load = { warmupMs: 500, durationMs: 2000, intervalMs: 250, batchSize: 16, drainTimeoutMs: 15_000 };
    const r = await runOnce(runSpec(adapter, { storage: 'memory' }, { ratePerSec: 1000, rateSchedule, load }));
    expect(r.status, r.error).toBe('ok');
    // 0.5 s at 1k, then (1k + 5k) / 2 × 2 s: every intended message sent
    expect(r.schedule).toMatchObject({ intended: 6500, sent: 6500, unsent: 0, intendedPerSec: 3000 });
    expect(r.delivery).toMatchObject({ sent: 6500, lost: 0, duplicated: 0, outOfOrder: 0 });
    const measured = r.intervals.filter((iv) => iv.phase === 'measure');
    expect(measured.map((iv) => iv.intendedPerSec)).toEqual([1250, 1750, 2250, 2750, 3250, 3750, 4250, 4750]);
    // per interval (250 ms), what was handed over follows what was offered, a batch or two either way
    for (const iv of measured) expect(Math.abs((iv.sent ?? 0) - iv.intendedPerSec! / 4), JSON.stringify(iv)).toBeLessThanOrEqual(2 * 16 + 0.05 * (iv.intendedPerSec! / 4));
    // received follows the ramp: the second half of the window takes in well over the first
    const received = (ivs: typeof measured): number => ivs.reduce((n, iv) => n + iv.received, 0);
    const [first, second] = [received(measured.slice(0, 4)), received(measured.slice(4))];
    expect(first).toBeGreaterThan(0.9 * 2000);
    expect(second).toBeGreaterThan(0.9 * 4000);
    expect(received(measured)).toBeGreaterThan(0.95 * 6000);
  });
});
