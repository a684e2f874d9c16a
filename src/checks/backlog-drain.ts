/**
 * The verdict on a backlog build and drain: was the backlog built, did the consumers
 * catch up once resumed, and at what rate. A drain that cannot catch up (the consumers
 * take no more than the producers keep sending) is said so with both rates, never waited
 * out: the harness stops the drain phase at maxDrain and this names what was left.
 */
import type { BacklogResult } from '../core/result.ts';

/** What the harness saw of the two phases, from the shared counters. */
export interface BacklogPhases {
  target: { messages: number; bytes: number };
  messageSize: number;
  baselineMessages: number;
  buildNs: number;
  built: boolean;
  reachedMessages: number;
  /** resume → end of the drain phase */
  drainPhaseNs: number;
  drained: boolean;
  caughtUpAt: number;
  /** counters over the drain phase */
  sentInDrain: number;
  receivedInDrain: number;
  remainingMessages: number;
  maxBuildMs: number;
  maxDrainMs: number;
}

/** Caught up: the backlog no more than twice what was in flight before the pause, or 1% of the target. */
export function caughtUpLevel(baseline: number, targetMessages: number): number {
  return Math.max(2 * baseline, Math.ceil(0.01 * targetMessages));
}

const r0 = (n: number): number => Math.round(n);
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export function judgeBacklog(p: BacklogPhases, rate: (perSec: number) => string = (n) => String(r0(n))): { result: Omit<BacklogResult, 'drainLatency'>; problems: string[] } {
  const drainSec = p.drainPhaseNs / 1e9;
  const drainPerSec = drainSec > 0 ? p.receivedInDrain / drainSec : 0;
  const producePerSec = drainSec > 0 ? p.sentInDrain / drainSec : 0;
  const net = drainPerSec - producePerSec;
  const buildMs = r0(p.buildNs / 1e6);
  const drainMs = r0(p.drainPhaseNs / 1e6);
  const problems: string[] = [];
  if (!p.built) {
    problems.push(`backlog not built: it reached ${p.reachedMessages} of ${p.target.messages} messages within backlog.maxBuild ${secs(p.maxBuildMs)} (the producers could not send faster, or the system stopped taking messages)`);
  }
  const rates = `consumers took ${rate(drainPerSec)} msg/s while producers sent ${rate(producePerSec)} msg/s`;
  let verdict: string;
  if (p.drained) {
    verdict = `backlog of ${p.reachedMessages} messages (${mb(p.reachedMessages * p.messageSize)}) built in ${secs(buildMs)}, drained in ${secs(drainMs)}: ${rates} (net ${rate(net)} msg/s)`;
  } else {
    const why = net <= 0 ? 'the drain rate is not above the produce rate: it never catches up' : `at the net ${rate(net)} msg/s it would need ~${secs(((p.remainingMessages - p.caughtUpAt) / net) * 1000)} more`;
    verdict = `backlog did not drain within backlog.maxDrain ${secs(p.maxDrainMs)}: ${rates} (${why}); ${p.remainingMessages} of ${p.reachedMessages} messages still queued`;
    problems.push(verdict);
  }
  return {
    result: {
      target: p.target,
      reached: { messages: p.reachedMessages, bytes: p.reachedMessages * p.messageSize },
      baselineMessages: p.baselineMessages,
      buildMs,
      built: p.built,
      drainMs: p.drained ? drainMs : null,
      drainPhaseMs: drainMs,
      caughtUpAt: p.caughtUpAt,
      drainPerSec,
      drainMBPerSec: (drainPerSec * p.messageSize) / 1e6,
      producePerSec,
      netDrainPerSec: net,
      remainingMessages: p.remainingMessages,
      maxBuildMs: p.maxBuildMs,
      maxDrainMs: p.maxDrainMs,
      verdict,
    },
    problems,
  };
}

/** One line for the console and the report: what was reached, and how the drain went. */
export function backlogSummary(b: BacklogResult, rate: (perSec: number) => string): string {
  const built = `backlog ${b.reached.messages} messages (${mb(b.reached.bytes)}) of ${b.target.messages} reached in ${secs(b.buildMs)}`;
  if (b.drainMs === null) return `${built}; ${b.verdict}`;
  return `${built}; drained in ${secs(b.drainMs)} at ${rate(b.drainPerSec)} msg/s (${b.drainMBPerSec.toFixed(1)} MB/s) while producers kept ${rate(b.producePerSec)} msg/s`;
}
