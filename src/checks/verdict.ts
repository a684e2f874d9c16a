/**
 * The run's status and the notes beside it: what passes, what fails, and the findings a
 * reader must see next to the numbers (held messages, clock errors, planned faults).
 */
import { HIGHEST_TRACKABLE_NS } from '../core/histogram.ts';
import type { DeliveryCounts, SystemResult } from '../core/result.ts';
import type { FaultCounts } from './exactly-once.ts';

/**
 * The exactly-once scenario as the verdicts read it: plain values, so checks stay free of
 * the scenario's parser and its types.
 */
export interface ExactlyOncePlan {
  guarantee: string;
  stages: number;
  retryEveryMs: number;
  crashEveryMs: number;
  /** the consumer's behaviour: 'correct' or a deliberate breakage */
  behaviour: string;
}

/**
 * Under a fault or a deliberate duplicate, losses and duplicates are findings; only a
 * broken promise fails the run: durability where promised, exactly-once application where
 * promised, and at least once application of every acknowledged message always.
 */
export function statusOf(
  deliveryClean: boolean,
  durability: { promiseKept: boolean; error?: string } | undefined,
  eo: { guarantee: string; appliedTwice: number; neverApplied: number; stateCorrect: boolean } | undefined,
): SystemResult['status'] {
  if (eo) {
    const kept = eo.neverApplied === 0 && (eo.guarantee === 'at-least-once' || (eo.appliedTwice === 0 && eo.stateCorrect));
    return kept && (!durability || (durability.promiseKept && !durability.error)) ? 'ok' : 'delivery-errors';
  }
  if (durability) return durability.promiseKept && !durability.error ? 'ok' : 'delivery-errors';
  return deliveryClean ? 'ok' : 'delivery-errors';
}

export function mechanismOf(eo: ExactlyOncePlan, c: { deduplication: boolean; transactions: boolean }, record: string): string {
  if (eo.guarantee === 'at-least-once') return 'none: at-least-once (every delivery applied)';
  const parts = [c.deduplication ? 'the system drops re-sent (producer, sequence)' : 'no deduplication in the system', `consumer: ${record}`];
  if (eo.stages > 1) parts.push(c.transactions ? 'stages forward and ack in one transaction' : 'stages forward, then ack after the downstream ack');
  return parts.join('; ');
}

/** What was planned, each with how often it happened: a planned fault that never came shows 0. */
export function faultsOf(eo: ExactlyOncePlan, c: FaultCounts, brokerKillPlanned: boolean): string[] {
  const out: string[] = [];
  if (eo.retryEveryMs > 0) out.push(`producer retries: ${c.resent} messages re-sent as after a lost ack`);
  if (eo.crashEveryMs > 0) out.push(`consumer crashes between processing and acknowledging: ${c.consumerCrashes}`);
  if (eo.crashEveryMs > 0 && eo.stages > 1) out.push(`stage crashes between forwarding and acknowledging: ${c.stageCrashes}`);
  if (brokerKillPlanned) out.push(`broker kill -9 and restart: ${c.brokerKills} (see durability)`);
  if (eo.behaviour !== 'correct') out.push(`deliberately broken consumer: ${eo.behaviour}`);
  return out;
}

/**
 * Acks that came after their send time had left the producer's ring of send times (at
 * least 65,536 and 4 × max-in-flight sends later): acknowledged and counted in the
 * ledger, but missing from the publish latency histogram, whose tail they would be.
 */
export function lateAckNote(missed: number): string | undefined {
  return missed > 0 ? `${missed} acks came too late to be timed` : undefined;
}

/** The broker's count is a number, not a set: it bounds how many losses are unproven. */
export function heldNote(d: DeliveryCounts): string | undefined {
  const held = d.undeliveredAtDeadline ?? 0;
  if (held === 0 || d.lost === 0) return undefined;
  return (
    `the broker still held ${held} messages (undelivered or unacknowledged) at the drain deadline: ` +
    `up to ${Math.min(held, d.lost)} of the ${d.lost} counted lost (${d.ackedLost} acked) may still arrive, not proven lost`
  );
}

export function latencyProblems(errors: Record<string, { clamped: number; negative: number }>): string[] {
  const out: string[] = [];
  for (const [name, e] of Object.entries(errors)) {
    if (e.negative > 0) out.push(`${e.negative} negative ${name} latencies (clock error)`);
    if (e.clamped > 0) out.push(`${e.clamped} ${name} latencies above ${HIGHEST_TRACKABLE_NS / 60e9} min recorded as ${HIGHEST_TRACKABLE_NS / 60e9} min`);
  }
  return out;
}
