/**
 * Counts per partition (sent, acked, received), from the ledgers: a message's partition
 * is a function of the message (src/core/partitions.ts), so nothing recorded where each
 * went, and the counts add up to the run's totals by construction: sent to `sent`, acked
 * to `acked`, received (distinct messages) to received − duplicated. Where the broker
 * counts per partition too, each partition is cross-checked as the totals are.
 */
import type { BrokerCounts } from '../core/contract.ts';
import type { KeyPlan } from '../core/keys.ts';
import { PartitionRouter, type PartitionPlan } from '../core/partitions.ts';
import type { PartitionCounts, PartitionsResult } from '../core/result.ts';
import type { ConsumerLedgerSnapshot, ProducerLedgerSnapshot } from './ledger.ts';
import { SeqSet } from './seqset.ts';

function addRun(into: Float64Array, router: PartitionRouter, start: number, count: number): void {
  for (let seq = start; seq < start + count; seq++) into[router.partition(seq)]!++;
}

/** Distinct messages received per producer, over every consumer. */
export function receivedPerProducer(consumers: readonly ConsumerLedgerSnapshot[]): Map<number, SeqSet> {
  const out = new Map<number, SeqSet>();
  for (const c of consumers) {
    for (const p of c.perProducer) {
      const set = SeqSet.fromSnapshot(p.received);
      const mine = out.get(p.producerId);
      if (mine) mine.addAll(set);
      else out.set(p.producerId, SeqSet.union(set));
    }
  }
  return out;
}

export function countPerPartition(producers: readonly ProducerLedgerSnapshot[], consumers: readonly ConsumerLedgerSnapshot[], plan: PartitionPlan, keys: KeyPlan): PartitionCounts[] {
  const n = plan.count;
  const sent = new Float64Array(n);
  const acked = new Float64Array(n);
  const received = new Float64Array(n);
  const routers = new Map<number, PartitionRouter>();
  const routerOf = (id: number): PartitionRouter => {
    let r = routers.get(id);
    if (!r) routers.set(id, (r = new PartitionRouter(plan, keys, id)));
    return r;
  };
  for (const p of producers) {
    const r = routerOf(p.producerId);
    addRun(sent, r, 0, p.sent);
    SeqSet.fromSnapshot(p.acked).forEachRun((start, count) => addRun(acked, r, start, count));
  }
  for (const [id, set] of receivedPerProducer(consumers)) set.forEachRun((start, count) => addRun(received, routerOf(id), start, count));
  return Array.from({ length: n }, (_, i) => ({ partition: i, sent: sent[i]!, acked: acked[i]!, received: received[i]! }));
}

export interface PartitionCheckContext {
  /** the totals' own bounds would not hold (re-sends, a restart, reconnects, pipeline stages): nothing judged */
  unjudgeable?: string;
  /** some delivery was a duplicate: a partition's delivered count may exceed its distinct received */
  duplicated: number;
}

/**
 * One partition's (or topic's: `what` names it) broker counts against the ledger's:
 * stored within [acked, sent], delivered = received without duplicates.
 */
export function domainDisagreement(what: string, c: { sent: number; acked: number; received: number }, b: { stored?: number; delivered?: number }, duplicated: number): string | undefined {
  if (b.stored !== undefined && (b.stored < c.acked || b.stored > c.sent)) return `${what}: broker stored ${b.stored}, outside [acked ${c.acked}, sent ${c.sent}]`;
  if (b.delivered === undefined) return undefined;
  if (b.delivered < c.received || (duplicated === 0 && b.delivered > c.received)) {
    return `${what}: broker delivered ${b.delivered}, ${duplicated === 0 ? 'not' : 'fewer than'} the ${c.received} distinct messages received`;
  }
  return undefined;
}

/** A domain's counts with the broker's own beside them, where it has them. */
export function withBrokerCounts<T extends object>(c: T, b: { stored?: number; delivered?: number }): T & { brokerStored?: number; brokerDelivered?: number } {
  return { ...c, ...(b.stored !== undefined ? { brokerStored: b.stored } : {}), ...(b.delivered !== undefined ? { brokerDelivered: b.delivered } : {}) };
}

export function checkPartitions(counts: PartitionCounts[], broker: BrokerCounts | undefined, ctx: PartitionCheckContext): PartitionsResult {
  const per = broker?.perPartition;
  if (!per || per.length !== counts.length) return { counts, agrees: null, note: per ? `the broker counted ${per.length} partitions, the run has ${counts.length}` : 'the broker reported no per-partition count' };
  const withBroker = counts.map((c, i) => withBrokerCounts(c, per[i]!));
  if (ctx.unjudgeable) return { counts: withBroker, agrees: null, note: `per-partition broker counts not judged: ${ctx.unjudgeable}` };
  const wrong = counts.map((c, i) => domainDisagreement(`partition ${c.partition}`, c, per[i]!, ctx.duplicated)).filter((x): x is string => x !== undefined);
  return { counts: withBroker, agrees: wrong.length === 0, note: wrong.length === 0 ? `every partition's broker counts agree with the ledger (${broker!.source})` : wrong.join('; ') };
}

/** A short line per run for the console: the partitions' received counts. */
export function describePartitions(r: PartitionsResult): string {
  const received = r.counts.map((c) => c.received);
  const cross = r.agrees === true ? ', broker agrees' : r.agrees === false ? `, BROKER DISAGREES: ${r.note}` : '';
  return `partitions ${r.counts.length}: received ${received.join(' / ')} (sent ${r.counts.map((c) => c.sent).join(' / ')})${cross}`;
}
