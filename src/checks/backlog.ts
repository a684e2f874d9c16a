/**
 * Consumer lag over the measured phase: did the consumers keep up, and how much of the
 * end-to-end latency is the queue in front of them?
 *
 * A latency measured behind a backlog is mostly time spent waiting in it (Little's law:
 * the wait is the backlog divided by the rate it drains at), so a table that shows such a
 * latency without the backlog invites reading it as the system's own. The finding says
 * which of the two cases a run is in: the backlog grew (consumers fell behind: the
 * latency keeps rising with the run's length) or it held steady but large (closed loop
 * keeps the in-flight window full: the latency is that window's queueing).
 */
import type { IntervalStats } from '../core/result.ts';
import { formatUs } from '../core/units.ts';

export interface BacklogTrend {
  /** at the end of the first measured interval (the warm-up fills a closed loop's window) */
  start: number;
  /** at the end of the last measured interval */
  end: number;
  /** median over the measured intervals */
  median: number;
  /** (end − start) per second between the first and last measured interval's ends */
  growthPerSec: number;
  /** handed over in the measured intervals */
  sent: number;
  /** seconds from the first measured interval's end to the last's */
  seconds: number;
}

/** Growth below this share of what was sent is noise of where interval edges fall. */
const GROWTH_SHARE = 0.01;
/** A steady backlog worth naming: at least this much queueing in every message's latency. */
const QUEUEING_NOTE_US = 1000;

export function backlogTrend(intervals: IntervalStats[], intervalMs: number): BacklogTrend | undefined {
  const measured = intervals.filter((i) => i.phase === 'measure' && i.backlog !== undefined);
  if (measured.length === 0) return undefined;
  const start = measured[0]!.backlog!;
  const end = measured[measured.length - 1]!.backlog!;
  const sorted = measured.map((i) => i.backlog!).sort((a, b) => a - b);
  const seconds = ((measured.length - 1) * intervalMs) / 1000;
  const sent = measured.slice(1).reduce((n, i) => n + (i.sent ?? 0), 0);
  return { start, end, median: sorted[Math.floor(sorted.length / 2)]!, growthPerSec: seconds > 0 ? (end - start) / seconds : 0, sent, seconds };
}

/**
 * The finding, or undefined when the consumers kept up with a short queue. `receivedPerSec`
 * is the measured throughput, the rate the queue drains at.
 */
/** The backlog grew by more than interval edges explain: consumers fell behind. */
export function backlogGrew(t: BacklogTrend): boolean {
  return t.seconds > 0 && t.end - t.start > Math.max(100, GROWTH_SHARE * t.sent);
}

export function backlogFinding(t: BacklogTrend, receivedPerSec: number, rate: (perSec: number) => string): string | undefined {
  if (backlogGrew(t)) {
    return `consumers fell behind: backlog grew from ${t.start} to ${t.end} messages over the measured phase (+${rate(t.growthPerSec)} msg/s); end-to-end latency includes that growing queue and rises with the run's length`;
  }
  if (receivedPerSec <= 0 || t.median <= 0) return undefined;
  const waitUs = (t.median / receivedPerSec) * 1e6;
  if (waitUs < QUEUEING_NOTE_US) return undefined;
  return `backlog held at ~${t.median} messages: at ${rate(receivedPerSec)} msg/s that is ~${formatUs(waitUs)} of queueing in every end-to-end latency (backlog ÷ rate), not the system's own latency`;
}
