/**
 * Step 5 of a run: the producers are done; wait until every sent message is received or,
 * after the drain timeout, counted lost.
 */
import type { SystemSession } from '../core/contract.ts';
import { SeqSet, type SeqSetSnapshot } from '../checks/seqset.ts';
import { STATE_STOP } from './control.ts';
import type { ProducerTotals } from './collect.ts';
import type { RunContext } from './run-context.ts';
import type { RunClock } from './run-measure.ts';
import { withTimeout } from './run-workers.ts';

interface DrainTargets {
  /** sent and not rejected */
  expected: number;
  /** sent without an answer: may never come */
  uncertain: number;
  acked: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function countOf(snapshot: SeqSetSnapshot): number {
  return SeqSet.fromSnapshot(snapshot).size;
}

/** No delivery for this long, and the broker holding nothing twice over: what is missing is lost. */
const LOST_AFTER_MS = 5000;

/**
 * Waits until every expected message was received, counted as the union across consumers
 * (each consumer counts only messages no consumer had before it: FirstSeen), or until
 * deliveries stopped with the broker holding nothing more for them, or the deadline.
 * Returns the broker's held count at the deadline when it timed out and the system can tell.
 */
async function drain(session: SystemSession, t: DrainTargets, deadline: number, received: () => number, failed: () => boolean): Promise<number | undefined> {
  let lastProgressAt = Date.now();
  let lastSeen = -1;
  let askedBrokerAt = 0;
  let brokerHolds = -1;
  let emptyAnswers = 0;
  while (!failed() && Date.now() < deadline) {
    const got = received();
    if (got >= t.expected) return undefined;
    if (got !== lastSeen) {
      lastSeen = got;
      lastProgressAt = Date.now();
      emptyAnswers = 0;
    } else if (Date.now() - lastProgressAt > 2000 && session.undelivered && Date.now() - askedBrokerAt > 1000) {
      // Deliveries paused; the broker may still be holding messages it will redeliver.
      askedBrokerAt = Date.now();
      brokerHolds = await session.undelivered().catch(() => -1);
      emptyAnswers = brokerHolds === 0 ? emptyAnswers + 1 : 0;
    }
    const paused = Date.now() - lastProgressAt;
    // Unanswered messages may never come; stop waiting for them once progress stops, but
    // not before as many messages arrived as were acknowledged (a broker may still
    // redeliver those after its ack wait) ...
    const settled = got >= t.expected - t.uncertain && got >= t.acked && paused > 2000 && (!session.undelivered || brokerHolds === 0);
    // ... unless the broker has said twice that it holds nothing more: acknowledged
    // messages it no longer has (a power loss took them) will not come either.
    if (settled || (paused > LOST_AFTER_MS && emptyAnswers >= 2)) return undefined;
    await sleep(50);
  }
  if (failed() || !session.undelivered) return undefined;
  // a broker that does not answer leaves the count unknown, not zero
  return withTimeout(session.undelivered(), 5000, 'the broker counting what it holds').catch(() => undefined);
}

/** Drains, then stops every worker; returns what the broker still held at a timed-out deadline. */
export async function drainRun(run: RunContext, clock: RunClock, producers: ProducerTotals): Promise<number | undefined> {
  const reports = producers.reports;
  const expected = reports.reduce((s, p) => s + p.sent, 0) - reports.reduce((s, p) => s + countOf(p.failed), 0);
  const uncertain = reports.reduce((s, p) => s + countOf(p.unknown), 0);
  const acked = reports.reduce((s, p) => s + countOf(p.acked), 0);
  const deadline = Date.now() + (run.hooks.signal?.aborted ? 2000 : run.spec.load.drainTimeoutMs);
  const held = await drain(run.session, { expected, uncertain, acked }, deadline, () => clock.tick('drain').received, () => run.failure !== undefined);
  run.control.setState(STATE_STOP);
  return held;
}
