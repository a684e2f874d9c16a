/**
 * Step 4 of a backlog run, in place of measure's plain wait: the consumers are paused from
 * the window's start (run-measure.ts sets that before the timeline), the producers keep
 * their rate, and this step watches the shared counters:
 *   1. build: until the backlog (handed over − first deliveries) reaches the target, or
 *      backlog.maxBuild;
 *   2. drain: resume the consumers, until the backlog is back at the caught-up level, or
 *      backlog.maxDrain;
 *   3. close the window as planned, 20 ms ahead (the producers send what was intended
 *      before it, so nothing counts as unsent), and let measure() see the producers out.
 * Polled every 10 ms: the phases' lengths are good to that.
 */
import { monoNs } from '../core/clock.ts';
import { caughtUpLevel, type BacklogPhases } from '../checks/backlog-drain.ts';
import type { RunContext } from './run-context.ts';
import { measure, sentAndReceived, type RunClock } from './run-measure.ts';

/** A backlog run's target and bounds, resolved for its rate and message size. */
export interface BacklogRun {
  messages: number;
  bytes: number;
  maxBuildMs: number;
  maxDrainMs: number;
}

const POLL_MS = 10;
const CLOSE_AHEAD_MS = 20;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `done` holds, the deadline passes or the run is cut short; progress once an interval. */
async function pollUntil(run: RunContext, clock: RunClock, deadlineNs: number, done: (c: { sent: number; received: number }) => boolean): Promise<{ met: boolean; atNs: number }> {
  let nextTick = 0;
  for (;;) {
    const now = monoNs();
    const c = sentAndReceived(run);
    if (done(c)) return { met: true, atNs: now };
    // an abort pulls the window's end to now: stop watching, measure() winds down
    if (now >= deadlineNs || run.failure || now >= run.control.timeline().measureEndNs) return { met: false, atNs: now };
    if (now >= nextTick) {
      clock.tick(now < clock.measureStartNs ? 'warmup' : 'measure');
      nextTick = now + run.spec.load.intervalMs * 1e6;
    }
    await sleep(POLL_MS);
  }
}

export async function measureBacklog(run: RunContext, clock: RunClock, plan: BacklogRun): Promise<BacklogPhases> {
  const { control } = run;
  await pollUntil(run, clock, clock.measureStartNs, () => false);
  const atPause = sentAndReceived(run);
  const baseline = Math.max(0, atPause.sent - atPause.received);
  const caughtUpAt = caughtUpLevel(baseline, plan.messages);
  let reached = baseline;
  const build = await pollUntil(run, clock, clock.measureStartNs + plan.maxBuildMs * 1e6, (c) => (reached = Math.max(reached, c.sent - c.received)) >= plan.messages);
  const resumeNs = monoNs();
  control.resumeConsumers(resumeNs);
  const atResume = sentAndReceived(run);
  reached = Math.max(reached, atResume.sent - atResume.received);
  let atEnd = atResume;
  const drain = await pollUntil(run, clock, resumeNs + plan.maxDrainMs * 1e6, (c) => (atEnd = c).sent - c.received <= caughtUpAt);
  // A moment ahead: a producer stamps only what is due by the time it last read the end,
  // so none can have sent a message intended after an end that is still to come.
  if (!run.failure) control.closeWindowAsPlanned(monoNs() + CLOSE_AHEAD_MS * 1e6);
  await measure(run, clock);
  return {
    target: { messages: plan.messages, bytes: plan.bytes },
    messageSize: run.spec.load.messageSize,
    baselineMessages: baseline,
    buildNs: resumeNs - clock.measureStartNs,
    built: build.met,
    reachedMessages: reached,
    drainPhaseNs: drain.atNs - resumeNs,
    drained: drain.met,
    caughtUpAt,
    sentInDrain: atEnd.sent - atResume.sent,
    receivedInDrain: atEnd.received - atResume.received,
    remainingMessages: Math.max(0, atEnd.sent - atEnd.received),
    maxBuildMs: plan.maxBuildMs,
    maxDrainMs: plan.maxDrainMs,
  };
}
