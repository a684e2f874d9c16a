/**
 * Steps 3 and 4 of a run: start the clock (warm-up, then the measured window) and show
 * progress until the producers are done. Both phases are one timeline that every worker
 * reads from shared memory; the main thread only marks time and samples counters.
 */
import { atMonoNs, monoNs } from '../core/clock.ts';
import { ResourceMeter } from '../core/resources.ts';
import { COUNTER_RECEIVED_UNIQUE, COUNTER_SENT, STATE_DRAINING } from './control.ts';
import { injectFault, type FaultRun } from './fault-schedule.ts';
import type { RunContext } from './run-context.ts';
import type { Progress } from './runner.ts';
import { runProfile } from './schedule.ts';
import { anchoredStart } from './shard-run.ts';

export interface RunClock {
  startNs: number;
  measureStartNs: number;
  /** the measured window's end as planned; a failure or an interrupt may end it sooner */
  plannedEndNs: number;
  /** the broker kill and restart under way, if the run has a fault */
  faultRun?: FaultRun;
  /** samples counters and resources, and reports progress */
  tick(phase: Progress['phase']): { sent: number; received: number };
}

/** The measured window's CPU marks, taken on time rather than at the next progress tick. */
function windowMarks(meter: ResourceMeter, measureStartNs: number, measureEndNs: number): NodeJS.Timeout[] {
  return [atMonoNs(measureStartNs, () => meter.markWindowStart()), atMonoNs(measureEndNs, () => meter.markWindowEnd())];
}

/** Messages handed over and first deliveries so far, all workers together (shared counters). */
export function sentAndReceived(run: RunContext): { sent: number; received: number } {
  const { control } = run;
  const { producers, consumers } = run.spec.load;
  let sent = 0;
  let received = 0;
  for (let p = 0; p < producers; p++) sent += control.counter(p, COUNTER_SENT);
  for (let c = 0; c < consumers; c++) received += control.counter(producers + c, COUNTER_RECEIVED_UNIQUE);
  return { sent, received };
}

function ticker(run: RunContext, startNs: number): RunClock['tick'] {
  const totalMs = run.spec.load.warmupMs + run.spec.load.durationMs;
  let lastReceived = 0;
  let lastTick = monoNs();
  return (phase) => {
    const { control } = run;
    const now = monoNs();
    const { sent, received } = sentAndReceived(run);
    const rate = ((received - lastReceived) * 1e9) / Math.max(1, now - lastTick);
    lastReceived = received;
    lastTick = now;
    const p99Us = run.intervals.latestP99('e2e');
    run.meter?.sample();
    if (now >= control.timeline().measureEndNs) run.meter?.markWindowEnd();
    run.progress({ phase, elapsedMs: Math.max(0, Math.min(totalMs, (now - startNs) / 1e6)), totalMs, msgsPerSec: rate, p99Us, sent, received });
    return { sent, received };
  };
}

/** Every worker is ready: the clock starts a moment from now, with the warm-up. */
export function warmUp(run: RunContext): RunClock {
  const { spec, control, session } = run;
  if (spec.shard) run.anchor = anchoredStart(spec, spec.shard);
  const startNs = run.anchor?.startNs ?? monoNs() + 20e6;
  const measureStartNs = startNs + spec.load.warmupMs * 1e6;
  const plannedEndNs = measureStartNs + spec.load.durationMs * 1e6;
  const steps = spec.rateSchedule?.kind === 'steps' ? spec.rateSchedule.segments.map((g) => g.durationMs) : undefined;
  run.intervals.start(startNs, measureStartNs, spec.ratePerSec > 0 ? { profile: runProfile(spec), ...(steps ? { stepsMs: steps } : {}) } : undefined);
  const meter = new ResourceMeter(session.processes ? () => session.processes?.() ?? [] : undefined);
  run.meter = meter;
  run.timers.push(...windowMarks(meter, measureStartNs, plannedEndNs));
  // before the timeline: a consumer that sees the timeline sees the pause too
  if (spec.backlog) control.pauseConsumersFrom(measureStartNs);
  control.setTimeline({ startNs, measureStartNs, measureEndNs: plannedEndNs });
  control.setState(control.runState); // wake waiters
  run.hooks.onSession?.(session, { timelineNs: () => ({ startNs, measureEndNs: control.timeline().measureEndNs }) });
  const faultRun = spec.fault ? injectFault(session, control, spec.fault, measureStartNs, run.log) : undefined;
  return { startNs, measureStartNs, plannedEndNs, ...(faultRun ? { faultRun } : {}), tick: ticker(run, startNs) };
}

/** Progress until the producers are done (their schedule ended, or the run failed). */
export async function measure(run: RunContext, clock: RunClock): Promise<void> {
  const { control } = run;
  const producersDone = Promise.allSettled(run.workers.filter((w) => w.role === 'producer').map((w) => w.done));
  let finished = false;
  let wake: (() => void) | undefined;
  // Not Promise.race([producersDone, sleep]): each race leaves a reaction on the pending
  // producersDone (~300 B per tick, 300 kB/s at 1 ms intervals) until the producers end.
  void producersDone.then(() => {
    finished = true;
    wake?.();
  });
  while (!finished) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.min(run.spec.load.intervalMs, 1000));
      wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
    });
    const now = monoNs();
    clock.tick(now < clock.measureStartNs ? 'warmup' : now < control.timeline().measureEndNs ? 'measure' : 'drain');
  }
  control.setState(STATE_DRAINING);
}
