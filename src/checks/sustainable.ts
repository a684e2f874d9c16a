/**
 * The maximum sustainable rate: the highest offered rate, in open loop, that the system
 * keeps up with. A step at offered rate R passes when
 *   - the run is healthy (not failed, no delivery errors),
 *   - the producers achieved at least 99% of R and the consumers received at least 99%,
 *   - the consumer backlog did not grow over the step (checks/backlog.ts's rule), and
 *   - with an SLO, the step's end-to-end p99 stayed under it.
 *
 * Why not the closed-loop maximum: a closed loop sends as fast as acks come back, with a
 * full in-flight window; at that rate in open loop the queue has no slack and grows, so a
 * "max" from closed loop need not be sustainable (OpenMessaging Benchmark's users report
 * the same of its max-rate mode). The search here only ever offers fixed rates.
 *
 * The search: multiply by GROWTH from `fromPerSec` until a step fails (or `maxPerSec` is
 * reached), then bisect (geometrically) between the best pass and the lowest fail until
 * they are within `precision` of each other: from 1k msg/s to a 5% bracket at 1 M msg/s
 * takes 6 growth steps and 5 bisections. It is bounded by `maxSteps`; the result says whether it
 * converged or ran out of steps, and reports every step.
 */
import type { IntervalStats, SearchOutcome, StepVerdict } from '../core/result.ts';
import { backlogGrew, backlogTrend } from './backlog.ts';

export interface SustainablePlan {
  fromPerSec: number;
  maxPerSec: number;
  /** measured length of each step */
  stepMs: number;
  /** warm-up of each step */
  stepWarmupMs: number;
  maxSteps: number;
  /** stop when (lowest fail − best pass) / best pass ≤ precision */
  precision: number;
  /** optional end-to-end p99 limit, µs */
  sloP99Us?: number;
}

/** What a step's run measured: the parts of a SystemResult the verdict needs. */
export interface StepMeasure {
  status: string;
  error?: string;
  msgsPerSec: number;
  achievedPerSec: number;
  p99Us: number;
  intervals: IntervalStats[];
}

/** Growth factor while every step passes. */
const GROWTH = 4;

/** Share of the offered rate a step must reach, at both ends. */
export const ACHIEVED_SHARE = 0.99;

export function judgeStep(offeredPerSec: number, m: StepMeasure, intervalMs: number, sloP99Us?: number): StepVerdict {
  const trend = backlogTrend(m.intervals, intervalMs);
  const base = { offeredPerSec, achievedPerSec: m.achievedPerSec, receivedPerSec: m.msgsPerSec, p99Us: m.p99Us, backlogGrowthPerSec: trend ? Math.round(trend.growthPerSec) : 0 };
  const reasons: string[] = [];
  if (m.status === 'failed' || m.status === 'delivery-errors') reasons.push(`${m.status}${m.error ? `: ${m.error}` : ''}`);
  if (m.achievedPerSec < ACHIEVED_SHARE * offeredPerSec) reasons.push(`producers achieved ${Math.round(m.achievedPerSec)} < 99% of offered`);
  if (m.msgsPerSec < ACHIEVED_SHARE * offeredPerSec) reasons.push(`consumers received ${Math.round(m.msgsPerSec)} < 99% of offered`);
  if (trend && backlogGrew(trend)) reasons.push(`backlog grew ${Math.round(trend.growthPerSec)} msg/s`);
  if (sloP99Us !== undefined && !(m.p99Us <= sloP99Us)) reasons.push(`p99 ${m.p99Us} µs over the SLO ${sloP99Us} µs`);
  return { ...base, pass: reasons.length === 0, reason: reasons.join('; ') };
}

/** The search's state: which rate to offer next, given the verdicts so far. */
export class RateSearch {
  readonly steps: StepVerdict[] = [];
  private best: number | null = null;
  private lowestFail: number | null = null;

  constructor(private readonly plan: SustainablePlan) {}

  /** The next rate to offer, or undefined when the search is over. */
  next(): number | undefined {
    if (this.steps.length >= this.plan.maxSteps) return undefined;
    if (this.steps.length === 0) return this.plan.fromPerSec;
    if (this.best === null) return undefined; // the first step failed: nothing below it is searched
    if (this.lowestFail === null) return this.best >= this.plan.maxPerSec ? undefined : Math.min(this.plan.maxPerSec, this.best * GROWTH);
    if ((this.lowestFail - this.best) / this.best <= this.plan.precision) return undefined;
    // Halving the ratio, not the difference: after ×4 growth the bracket is a factor of 4.
    return Math.round(Math.sqrt(this.best * this.lowestFail));
  }

  record(v: StepVerdict): void {
    this.steps.push(v);
    if (v.pass) this.best = Math.max(this.best ?? 0, v.offeredPerSec);
    else this.lowestFail = Math.min(this.lowestFail ?? Number.POSITIVE_INFINITY, v.offeredPerSec);
  }

  outcome(): SearchOutcome {
    const p = this.plan;
    const steps = this.steps;
    if (this.best === null) return { sustainablePerSec: null, converged: false, stop: `the first step (${p.fromPerSec} msg/s) failed: lower sustainable.from`, steps };
    if (this.lowestFail === null && this.best >= p.maxPerSec) return { sustainablePerSec: this.best, converged: false, stop: `every step passed up to sustainable.max (${p.maxPerSec} msg/s): raise it`, steps };
    if (this.lowestFail !== null && (this.lowestFail - this.best) / this.best <= p.precision) {
      return { sustainablePerSec: this.best, converged: true, stop: `converged: ${this.best} passed, ${this.lowestFail} failed (within ${Math.round(p.precision * 100)}%)`, steps };
    }
    return { sustainablePerSec: this.best, converged: false, stop: `stopped after ${steps.length} steps (sustainable.maxSteps) between ${this.best} (pass) and ${this.lowestFail ?? 'untried'} (fail)`, steps };
  }
}
