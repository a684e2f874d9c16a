/**
 * The fixed-rate schedule's arithmetic: producers phase-shifted so the combined schedule
 * is start + j/R, due counts that agree with the intended times, and a schedule length
 * of exactly R × (warm-up + window); the judgement of a schedule kept or not.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Schedule } from '../../src/harness/schedule.ts';
import { RateProfile } from '../../src/core/rate-profile.ts';
import { judgeSchedule } from '../../src/checks/schedule.ts';
import { RunIntervals } from '../../src/harness/intervals.ts';
import { LatencyRecorder } from '../../src/core/histogram.ts';

const START = 1_000_000_000;

function producersOf(rate: number, p: number): Schedule[] {
  return Array.from({ length: p }, (_, i) => new Schedule(START, new RateProfile(rate, 0), p, i));
}

describe('fixed-rate schedule', () => {
  it('phase-shifts P producers so the combined schedule is start + j/R', () => {
    const rate = 5000;
    const all = producersOf(rate, 3).flatMap((s) => Array.from({ length: 100 }, (_, k) => s.intendedNs(k)));
    all.sort((a, b) => a - b);
    expect(all).toHaveLength(300);
    for (let j = 0; j < all.length; j++) expect(all[j]).toBe(START + j * 200_000);
  });

  it('gives producer p its k-th message at start + (k·P + p)/R', () => {
    const s = new Schedule(START, new RateProfile(3000, 0), 4, 2);
    expect(s.intendedNs(0)).toBe(Math.round(START + 2e9 / 3000));
    expect(s.intendedNs(5)).toBe(Math.round(START + (5 * 4 + 2) * (1e9 / 3000)));
  });

  it('counts exactly the messages intended before a time', () => {
    for (const s of producersOf(7000, 3)) {
      for (let k = 0; k < 50; k++) {
        const t = s.intendedNs(k);
        expect(s.countBefore(t)).toBe(k);
        expect(s.countBefore(t + 1)).toBe(k + 1);
      }
    }
  });

  it('intends exactly R × (warm-up + window) messages over all producers', () => {
    const endNs = START + 13e9; // 3 s warm-up + 10 s window
    for (const [rate, p] of [[5000, 1], [5000, 3], [7, 4], [20_000, 7], [5000 / 3, 3]] as const) {
      const counts = producersOf(rate, p).map((s) => s.countBefore(endNs));
      expect(counts.reduce((a, b) => a + b, 0)).toBe(Math.round(rate * 13));
      // and each producer's last intended message lies before the end, the next one not
      for (const [i, s] of producersOf(rate, p).entries()) {
        expect(s.intendedNs(counts[i]! - 1)).toBeLessThan(endNs);
        expect(s.intendedNs(counts[i]!)).toBeGreaterThanOrEqual(endNs);
      }
    }
  });
});

describe('schedule judgement', () => {
  const totals = (delayNs: number, sent = 1000, intended = 1000): Parameters<typeof judgeSchedule>[0] => {
    const sendDelay = new LatencyRecorder();
    sendDelay.recordMany(delayNs, 100);
    return { intended, sent, sentInWindow: 900, sendDelay };
  };

  it('keeps a schedule whose send delay stays within 5 ms and reports the achieved rate', () => {
    // 16 messages at 10,000 msg/s come due in 1.6 ms: the 5 ms floor applies
    const s = judgeSchedule(totals(4.9e6), 10_000, 1, 16, 9000);
    expect(s).toMatchObject({ kept: true, unsent: 0, intended: 1000, sent: 1000, achievedPerSec: 100, intendedPerSec: 10_000 });
    expect(judgeSchedule(totals(5.1e6), 10_000, 1, 16, 9000).kept).toBe(false);
  });

  it('allows a full batch worth of delay when that is longer than 2 ms', () => {
    // 16 messages at 1000 msg/s come due over 16 ms
    expect(judgeSchedule(totals(15e6), 1000, 1, 16, 1000).kept).toBe(true);
    expect(judgeSchedule(totals(17e6), 1000, 1, 16, 1000).kept).toBe(false);
  });

  it('does not keep a schedule with unsent messages or without data', () => {
    const unsent = judgeSchedule(totals(1e3, 990), 100, 1, 16, 9000);
    expect([unsent.kept, unsent.unsent]).toEqual([false, 10]);
    const none = judgeSchedule({ intended: 10, sent: 10, sentInWindow: 0, sendDelay: new LatencyRecorder() }, 100, 1, 16, 9000);
    expect([none.kept, none.sendDelayP99Us]).toEqual([false, null]);
  });
});

describe('per-interval send figures', () => {
  it('merges the producers of an interval, also one a producer never reported after its last send', () => {
    const h = (ns: number, n: number): LatencyRecorder => {
      const r = new LatencyRecorder();
      r.recordMany(ns, n);
      return r;
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-sends-'));
    const iv = new RunIntervals(path.join(dir, 'x.hlog.tmp'), 100, [[{ name: 'e2e', expected: 1 }], [{ name: 'send-delay', expected: 2 }]]);
    iv.start(1e9, 1e9);
    for (const index of [0, 1, 2]) iv.report({ kind: 'e2e', index, received: 1, hist: h(1e3, 1).toSparse() });
    iv.report({ kind: 'send-delay', index: 0, received: 10, hist: h(1e3, 10).toSparse() });
    iv.report({ kind: 'send-delay', index: 0, received: 5, hist: h(4e6, 5).toSparse() });
    iv.report({ kind: 'send-delay', index: 1, received: 7, hist: h(1e3, 7).toSparse() }); // the second producer had stopped
    iv.finish();
    const out = iv.stats('e2e', 1e9, 1e9 + 300e6, 'send-delay');
    fs.rmSync(dir, { recursive: true, force: true });
    expect(out[0]!.sent).toBe(15);
    expect(out[0]!.sendDelayP99).toBeCloseTo(4000, -1);
    expect(out[1]!.sent).toBe(7);
    expect(out[1]!.sendDelayP99).toBeCloseTo(1, 0);
    expect(out[2]!.sent).toBeUndefined();
    // the consumers' intervals close on their own reports: producers that stopped do not hold them
    expect(out.map((r) => r.incomplete ?? false)).toEqual([false, false, false]);
  });
});
