/**
 * A shard's ledgers in the result file's compact form (core/shard.ts) and back. Ids are
 * moved into the whole run's id space on the way out: a shard's workers number their
 * producers and consumers from 0 on the wire (its own stream keeps them apart), and the
 * merged ledgers number them by shard, so two shards never claim the same producer.
 */
import type { DiscardedEntries } from '../core/contract.ts';
import type { CompactApplyLedger, ShardLedger } from '../core/shard.ts';
import type { ConsumerLedgerSnapshot, ProducerLedgerSnapshot } from './ledger.ts';
import type { ApplyLedgerSnapshot } from './apply-ledger.ts';
import type { FaultCounts } from '../core/result.ts';
import { SeqSet, type SeqSetSnapshot } from './seqset.ts';

const ranges = (snap: SeqSetSnapshot): number[] => SeqSet.fromSnapshot(snap).ranges();
const snapshotOf = (r: readonly number[]): SeqSetSnapshot => SeqSet.fromRanges(r).snapshot();

export interface LedgerParts {
  producers: ProducerLedgerSnapshot[];
  consumers: ConsumerLedgerSnapshot[];
  discards?: DiscardedEntries[];
  applied?: ApplyLedgerSnapshot;
  record?: string;
  faultCounts?: FaultCounts;
  /** acks too late to be timed, by producer id (none: absent or 0) */
  publishMissed?: ReadonlyMap<number, number>;
}

/** What a shard writes: its ledgers with ids offset into the whole run's. */
export function compactLedger(parts: LedgerParts, producerIdFrom: number, consumerIdFrom: number): ShardLedger {
  const pid = (id: number): number => id + producerIdFrom;
  return {
    producers: parts.producers.map((p) => ({
      producerId: pid(p.producerId),
      sent: p.sent,
      acked: ranges(p.acked),
      failed: ranges(p.failed),
      unknown: ranges(p.unknown),
      duplicate: ranges(p.duplicate),
      doubleAcks: p.doubleAcks,
      resent: p.resent,
      failureReasons: p.failureReasons,
      ...(parts.publishMissed?.get(p.producerId) ? { publishMissed: parts.publishMissed.get(p.producerId)! } : {}),
    })),
    consumers: parts.consumers.map((c) => ({
      consumerId: c.consumerId + consumerIdFrom,
      perProducer: c.perProducer.map((x) => ({ producerId: pid(x.producerId), received: ranges(x.received), duplicates: x.duplicates, outOfOrder: x.outOfOrder })),
      deliveries: c.deliveries,
      malformed: c.malformed,
      ...(c.checksummed !== undefined ? { checksummed: c.checksummed, corrupted: c.corrupted ?? 0 } : {}),
    })),
    ...(parts.discards && parts.discards.length > 0 ? { discards: parts.discards.map((d) => ({ entries: d.entries, reasons: [...d.reasons] })) } : {}),
    ...(parts.applied ? { applied: compactApplied(parts.applied, pid) } : {}),
    ...(parts.record ? { record: parts.record } : {}),
    ...(parts.faultCounts ? { faultCounts: { ...parts.faultCounts } } : {}),
  };
}

function compactApplied(a: ApplyLedgerSnapshot, pid: (id: number) => number): CompactApplyLedger {
  return {
    perProducer: a.perProducer.map((p) => ({ producerId: pid(p.producerId), applied: ranges(p.applied), appliedTwice: ranges(p.appliedTwice), extraApplications: p.extraApplications })),
    balances: [...a.balances],
    skipped: a.skipped,
  };
}

/** The snapshots the verdicts read, from a compact ledger (ids as written). */
export function expandLedger(l: ShardLedger): LedgerParts {
  return {
    producers: l.producers.map((p) => ({
      producerId: p.producerId,
      sent: p.sent,
      acked: snapshotOf(p.acked),
      failed: snapshotOf(p.failed),
      unknown: snapshotOf(p.unknown),
      duplicate: snapshotOf(p.duplicate),
      doubleAcks: p.doubleAcks,
      resent: p.resent,
      failureReasons: p.failureReasons,
    })),
    consumers: l.consumers.map((c) => ({
      consumerId: c.consumerId,
      perProducer: c.perProducer.map((x) => ({ producerId: x.producerId, received: snapshotOf(x.received), duplicates: x.duplicates, outOfOrder: x.outOfOrder })),
      deliveries: c.deliveries,
      malformed: c.malformed,
      ...(c.checksummed !== undefined ? { checksummed: c.checksummed, corrupted: c.corrupted ?? 0 } : {}),
    })),
    ...(l.discards ? { discards: l.discards } : {}),
    ...(l.applied
      ? {
          applied: {
            perProducer: l.applied.perProducer.map((p) => ({ producerId: p.producerId, applied: snapshotOf(p.applied), appliedTwice: snapshotOf(p.appliedTwice), extraApplications: p.extraApplications })),
            balances: l.applied.balances,
            skipped: l.applied.skipped,
          },
        }
      : {}),
    ...(l.record ? { record: l.record } : {}),
    ...(l.faultCounts ? { faultCounts: l.faultCounts } : {}),
    ...(l.producers.some((p) => p.publishMissed) ? { publishMissed: new Map(l.producers.filter((p) => p.publishMissed).map((p) => [p.producerId, p.publishMissed!])) } : {}),
  };
}
