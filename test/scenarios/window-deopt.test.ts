/**
 * The measured window's start must not deoptimize the workers' accounting: a function
 * compiled during the warm-up without feedback for what only the window runs fell back
 * to the interpreter at the window's first message, and at 1 M msg/s the producer then
 * slipped 15-50 ms behind its schedule (src/harness/worker/window.ts). V8 reports what it
 * did through its test natives, so this runs in a node of its own with them enabled.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('window start and the optimizing compiler', () => {
  it('leaves the send accounting, ack timing, consumer tally and schedule lookups optimized across the window start', () => {
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', 'test/fixtures/window-deopt.ts'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, boolean | number>;
    // the window's records happened: the check saw the window, not an empty run
    expect(out.sendDelay).toBeGreaterThan(0);
    expect(out.publish).toBeGreaterThan(0);
    expect(out.e2e).toBeGreaterThan(0);
    expect(out.due).toBeGreaterThan(0);
    expect({ handedOver: out.handedOver, timeAcks: out.timeAcks, tallyAdd: out.tallyAdd, intendedNs: out.intendedNs }).toEqual({ handedOver: true, timeAcks: true, tallyAdd: true, intendedNs: true });
  });
});
