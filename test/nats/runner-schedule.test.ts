/**
 * A fixed-rate NATS run through the real runner whose nats-server is frozen (SIGSTOP)
 * for 2 s across the window's end: the producer falls behind, and must still send every
 * message its schedule holds, late, so the stall shows in the latencies and the result
 * says the schedule was not kept.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/nats/index.ts';
import { monoNs } from '../../src/core/clock.ts';
import { runOnce } from '../../src/harness/runner.ts';
import { removeRunDirs, runSpec } from '../fixtures/run-spec.ts';

const RATE = 5000;
const WARMUP_MS = 1000;
const WINDOW_MS = 4000;
const STALL_MS = 2000;

/** the nats-server whose command line names this run's folder (its config lives there) */
function natsServerPid(runDir: string): number {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmd = '';
    try {
      cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmd.includes('nats-server') && cmd.includes(runDir)) return Number(entry);
  }
  throw new Error(`no nats-server running for ${runDir}`);
}

let frozen: number | undefined;
afterEach(() => {
  // never leave a stopped server behind, whatever the test did
  if (frozen !== undefined) process.kill(frozen, 'SIGCONT');
  frozen = undefined;
  removeRunDirs();
});

describe('nats fixed-rate schedule through the runner', { timeout: 120_000 }, () => {
  it('sends every intended message when the server stalls across the window end, and says it fell behind', async () => {
    const spec = runSpec(adapter, {}, { ratePerSec: RATE, load: { warmupMs: WARMUP_MS, durationMs: WINDOW_MS, intervalMs: 500 } });
    let stalled = false;
    const r = await runOnce(spec, {
      onSession: (_session, control) => {
        const pid = natsServerPid(spec.runDir);
        const freezeAtNs = control.timelineNs().measureEndNs - (STALL_MS / 2) * 1e6;
        setTimeout(() => {
          process.kill(pid, 'SIGSTOP');
          frozen = pid;
          setTimeout(() => {
            process.kill(pid, 'SIGCONT');
            frozen = undefined;
            stalled = true;
          }, STALL_MS);
        }, (freezeAtNs - monoNs()) / 1e6);
      },
    });
    expect(stalled).toBe(true);
    const intended = (RATE * (WARMUP_MS + WINDOW_MS)) / 1000;
    // the schedule is exact: every message of it, no more
    expect(r.delivery.sent).toBe(intended);
    expect(r.delivery.lost).toBe(0);
    expect(r.schedule).toMatchObject({ intended, sent: intended, unsent: 0, kept: false, intendedPerSec: RATE });
    expect(r.schedule!.achievedPerSec).toBeLessThan(RATE * 0.9);
    // the last second of the window waited 1-2 s for the server
    expect(r.latency.e2e.p99).toBeGreaterThanOrEqual(900_000);
    expect(Math.max(r.latency.sendDelay!.p99, r.latency.publish.p99)).toBeGreaterThanOrEqual(500_000);
    expect(r.latency.sendDelay!.count).toBe((RATE * WINDOW_MS) / 1000);
    expect(r.histograms.sendDelay).toBeTypeOf('string');
    // a finding, not a delivery error
    expect(r.status).toBe('ok');
    expect(r.error).toMatch(/could not sustain 5000 msg\/s: achieved \d+ msg\/s, send delay p99/);
    // per interval: every message counted once, and the late ones show where they went out
    expect(r.intervals.reduce((n, iv) => n + (iv.sent ?? 0), 0)).toBe(intended);
    expect(Math.max(...r.intervals.map((iv) => iv.sendDelayP99 ?? 0))).toBeGreaterThanOrEqual(1_000_000);
  });
});
