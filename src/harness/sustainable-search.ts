/**
 * rate: sustainable — the search as a run of named steps: offer a rate, measure it as an
 * ordinary fixed-rate run, judge it, pick the next rate (src/checks/sustainable.ts holds
 * the rules). Each step is a whole run (open, warm up, measure, drain), so every step's
 * figures mean what a fixed-rate run's mean; the answer is the best passing step's own
 * result, with every step beside it.
 */
import type { SystemResult } from '../core/result.ts';
import { judgeStep, RateSearch, type SustainablePlan } from '../checks/sustainable.ts';

/** Runs one step at `ratePerSec` with the plan's step length and warm-up. */
export type StepRunner = (ratePerSec: number, step: number) => Promise<SystemResult>;

export async function searchSustainable(plan: SustainablePlan, intervalMs: number, runStep: StepRunner, log?: (line: string) => void): Promise<SystemResult> {
  const search = new RateSearch(plan);
  const results = new Map<number, SystemResult>();
  let first: SystemResult | undefined;
  for (let rate = search.next(); rate !== undefined; rate = search.next()) {
    const r = await runStep(rate, search.steps.length);
    first ??= r;
    const v = judgeStep(rate, { status: r.status, ...(r.error ? { error: r.error } : {}), msgsPerSec: r.throughput.msgsPerSec, achievedPerSec: r.schedule?.achievedPerSec ?? 0, p99Us: r.latency.e2e.p99, intervals: r.intervals }, intervalMs, plan.sloP99Us);
    search.record(v);
    log?.(`sustainable search step ${search.steps.length}: ${rate} msg/s offered, ${Math.round(v.receivedPerSec)} received, p99 ${v.p99Us} µs: ${v.pass ? 'pass' : `fail (${v.reason})`}`);
    if (v.pass) results.set(rate, r);
  }
  const outcome = search.outcome();
  const chosen = outcome.sustainablePerSec !== null ? results.get(outcome.sustainablePerSec)! : first!;
  chosen.sustainable = outcome;
  if (outcome.sustainablePerSec === null) {
    chosen.status = chosen.status === 'ok' ? 'warning' : chosen.status;
    chosen.error = [chosen.error, `no sustainable rate found: ${outcome.stop}`].filter(Boolean).join('; ');
  }
  return chosen;
}
