import { describe, expect, it } from 'vitest';
import { backlogFinding, backlogTrend } from '../../src/checks/backlog.ts';
import type { IntervalStats } from '../../src/core/result.ts';

const rate = (n: number): string => String(Math.round(n));
function rows(backlogs: number[], sentPer = 10_000, warm = 0): IntervalStats[] {
  return backlogs.map((backlog, i) => ({ tMs: (i + 1 - warm) * 1000, phase: i < warm ? 'warmup' : 'measure', received: sentPer, msgsPerSec: sentPer, p50: 1, p99: 2, max: 3, sent: sentPer, backlog }));
}

describe('consumer backlog', () => {
  it('calls a backlog that grows by more than 1% of what was sent consumers falling behind', () => {
    const t = backlogTrend(rows([500, 2000, 4000, 6000, 8000, 10_000], 10_000, 1), 1000)!;
    expect(t).toMatchObject({ start: 2000, end: 10_000, sent: 40_000, seconds: 4, growthPerSec: 2000 });
    expect(backlogFinding(t, 10_000, rate)).toBe('consumers fell behind: backlog grew from 2000 to 10000 messages over the measured phase (+2000 msg/s); end-to-end latency includes that growing queue and rises with the run\'s length');
    // 1% of what was sent is where interval edges fall, not a trend
    expect(backlogFinding(backlogTrend(rows([2000, 2100, 2200, 2300, 2390]), 1000)!, 1e7, rate)).toBeUndefined();
  });

  it('names a steady backlog by the queueing it puts in every latency (backlog ÷ rate)', () => {
    const t = backlogTrend(rows([8000, 8100, 7900, 8000]), 1000)!;
    expect(t.median).toBe(8000);
    expect(backlogFinding(t, 6_000_000, rate)).toBe('backlog held at ~8000 messages: at 6000000 msg/s that is ~1.33ms of queueing in every end-to-end latency (backlog ÷ rate), not the system\'s own latency');
  });

  it('says nothing when the consumers keep up with a short queue, or without backlog data', () => {
    expect(backlogFinding(backlogTrend(rows([20, 35, 10, 25]), 1000)!, 1_000_000, rate)).toBeUndefined(); // ~25 µs of queueing
    expect(backlogFinding(backlogTrend(rows([20, 35, 10, 25]), 1000)!, 10_000, rate)).toMatch(/^backlog held at ~25 messages: .* ~2\.50ms of queueing/);
    const none = rows([1, 2]).map(({ backlog: _b, sent: _s, ...rest }) => rest);
    expect(backlogTrend(none, 1000)).toBeUndefined();
  });
});
