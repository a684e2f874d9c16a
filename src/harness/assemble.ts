/**
 * The last step of a run: one SystemResult from what was collected and judged. Field order
 * is the result file's order; readers diff these files.
 */
import { encodeHdr } from '../core/histogram.ts';
import type { SystemResult } from '../core/result.ts';
import { totalPeakRssBytes } from '../core/resources.ts';
import type { ConsumerTotals, ProducerTotals } from './collect.ts';
import type { Verdict } from './judge.ts';
import { stepReached, stepShortfalls } from '../checks/schedule-steps.ts';
import type { RunContext } from './run-context.ts';
import { shardSection } from './shard-run.ts';

export function assemble(run: RunContext, p: ProducerTotals, c: ConsumerTotals, v: Verdict): SystemResult {
  const { spec, intervals } = run;
  const { measureStartNs: ms, measureEndNs: me } = run.control.timeline();
  const measuredMs = Math.max(1, (me - ms) / 1e6);
  const msgsPerSec = c.receivedInWindow / (measuredMs / 1000);
  // a payload's sizes vary: its bytes are counted as they arrived, not as count × messageSize (its largest)
  const messageBytes = spec.load.payload ? c.bytesInWindow / (measuredMs / 1000) : undefined;
  const { schedule, exactlyOnce } = v;
  const intervalLog = intervals.finish();
  const steps = spec.rateSchedule?.kind === 'steps' ? intervals.stepStats(ms, me, 'send-delay').map((st) => ({ ...st, reached: stepReached(st) })) : [];
  const problems = [...v.problems, ...stepShortfalls(steps)];
  const resources = run.meter!.result(c.receivedInWindow);
  const sharded = shardSection(run, p, c);
  return {
    system: spec.system,
    config: { label: spec.label, ...run.session.config },
    capabilities: run.capabilities,
    status: v.status,
    ...(problems.length > 0 ? { error: problems.join('; ') } : {}),
    throughput: {
      msgsPerSec,
      bytesPerSec: messageBytes ?? msgsPerSec * spec.load.messageSize,
      ...(messageBytes !== undefined ? { messageBytes } : {}),
      measuredMs,
      receivedInWindow: c.receivedInWindow,
      repeatsInWindow: c.repeatsInWindow,
    },
    latency: { e2e: c.e2e.summary(), publish: p.publish.summary(), redelivery: c.redelivery.summary(), ...(schedule ? { sendDelay: p.sched.sendDelay.summary() } : {}) },
    delivery: v.delivery,
    ...(v.broker ? { broker: v.broker } : {}),
    ...(v.partitions ? { partitions: v.partitions } : {}),
    ...(v.topics ? { topics: v.topics } : {}),
    intervals: intervals.stats('e2e', ms, me, 'send-delay'),
    histograms: {
      e2e: encodeHdr(c.e2e.toHdr()),
      publish: encodeHdr(p.publish.toHdr()),
      redelivery: encodeHdr(c.redelivery.toHdr()),
      ...(schedule ? { sendDelay: encodeHdr(p.sched.sendDelay.toHdr()) } : {}),
      unit: 'ns',
    },
    ...(schedule ? { schedule: steps.length > 0 ? { ...schedule, steps } : schedule } : {}),
    ...(v.backlog ? { backlog: { ...v.backlog, drainLatency: c.drainPhase.summary() } } : {}),
    latencyErrors: v.latencyErrors,
    ...(intervalLog ? { intervalLog } : {}),
    peakRssBytes: totalPeakRssBytes(resources),
    resources,
    ...(v.durability ? { durability: { ...v.durability } } : {}),
    ...(exactlyOnce ? { exactlyOnce: { ...exactlyOnce, ...(c.stages.length > 0 ? { stages: c.stages } : {}) } } : {}),
    ...(sharded ?? {}),
  };
}
