/**
 * The delivery ledger: what every producer sent and had acknowledged, and what every
 * consumer received, per (producer, sequence). Producers and consumers keep their halves
 * in their own workers; the main thread merges them at the end and derives the counts
 * that a run reports: lost, duplicated, out of order, acknowledged-but-lost.
 */
import type { AckSink, DiscardedEntries } from '../core/contract.ts';
import type { DeliveryCounts } from '../core/result.ts';
import { SeqSet, type SeqSetSnapshot } from './seqset.ts';

export interface ProducerLedgerSnapshot {
  producerId: number;
  /** sequences 0..sent-1 were handed to the system */
  sent: number;
  acked: SeqSetSnapshot;
  failed: SeqSetSnapshot;
  unknown: SeqSetSnapshot;
  /** answered "already held from an earlier send" by the system's deduplication (AckSink.duplicate) */
  duplicate: SeqSetSnapshot;
  /** acks reported twice for the same sequence: an adapter bug, never hidden, unless re-sent */
  doubleAcks: number;
  /** messages the harness deliberately sent again (retries after a lost ack) */
  resent: number;
  failureReasons: string[];
}

/** The producer's half. Implements the AckSink adapters report to. */
export class ProducerLedger implements AckSink {
  sent = 0;
  readonly ackedSet = new SeqSet();
  readonly failedSet = new SeqSet();
  readonly unknownSet = new SeqSet();
  readonly duplicateSet = new SeqSet();
  doubleAcks = 0;
  resent = 0;
  private readonly reasons = new Set<string>();
  /** called with (firstSeq, count) after each acked() so the harness can time publishes */
  onAck: ((seq: number, count: number) => void) | undefined;

  constructor(readonly producerId: number) {}

  acked(seq: number, count: number): void {
    this.doubleAcks += this.ackedSet.addRange(seq, count);
    this.onAck?.(seq, count);
  }

  failed(seq: number, count: number, reason: string): void {
    this.failedSet.addRange(seq, count);
    if (this.reasons.size < 10) this.reasons.add(reason);
  }

  unknown(seq: number, count: number, reason: string): void {
    this.unknownSet.addRange(seq, count);
    if (this.reasons.size < 10) this.reasons.add(reason);
  }

  /**
   * Not timed as a publish: the system stored nothing now, and a deliberate resend's
   * sequence still carries its first send time.
   */
  duplicate(seq: number, count: number): void {
    this.duplicateSet.addRange(seq, count);
  }

  snapshot(): ProducerLedgerSnapshot {
    return {
      producerId: this.producerId,
      sent: this.sent,
      acked: this.ackedSet.snapshot(),
      failed: this.failedSet.snapshot(),
      unknown: this.unknownSet.snapshot(),
      duplicate: this.duplicateSet.snapshot(),
      doubleAcks: this.doubleAcks,
      resent: this.resent,
      failureReasons: [...this.reasons],
    };
  }
}

interface ProducerStream {
  received: SeqSet;
  /** highest sequence seen in lane 0 */
  lastSeq: number;
  /** the same for lanes above 0, where the system orders per lane (partition, key) */
  laneLast: number[] | undefined;
  duplicates: number;
  outOfOrder: number;
}

export interface ConsumerLedgerSnapshot {
  consumerId: number;
  perProducer: Array<{ producerId: number; received: SeqSetSnapshot; duplicates: number; outOfOrder: number }>;
  /** deliveries, duplicates included */
  deliveries: number;
  /** payloads that were not our envelope */
  malformed: number;
  /** payload runs: bodies checked against their envelope's checksum, and those that failed (absent: none checked) */
  checksummed?: number;
  corrupted?: number;
}

/** The consumer's half: one record per message received. */
export class ConsumerLedger {
  private readonly streams: Array<ProducerStream | undefined> = [];
  deliveries = 0;
  /** distinct (producer, seq) seen by this consumer */
  unique = 0;
  malformed = 0;
  checksummed = 0;
  corrupted = 0;

  constructor(readonly consumerId: number) {}

  /**
   * Returns false for a duplicate. Out of order = below a sequence already seen from that
   * producer in the same lane (the ordering domain the system promises order within: one
   * for most systems, a partition or a key where order holds only per partition or key).
   */
  record(producerId: number, seq: number, lane = 0): boolean {
    this.deliveries++;
    let s = this.streams[producerId];
    if (s === undefined) {
      s = { received: new SeqSet(), lastSeq: -1, laneLast: undefined, duplicates: 0, outOfOrder: 0 };
      this.streams[producerId] = s;
    }
    if (!s.received.add(seq)) {
      s.duplicates++;
      return false;
    }
    this.unique++;
    if (lane <= 0) {
      if (seq < s.lastSeq) s.outOfOrder++;
      else s.lastSeq = seq;
      return true;
    }
    const last = (s.laneLast ??= []);
    if (seq < (last[lane] ?? -1)) s.outOfOrder++;
    else last[lane] = seq;
    return true;
  }

  snapshot(): ConsumerLedgerSnapshot {
    const perProducer: ConsumerLedgerSnapshot['perProducer'] = [];
    this.streams.forEach((s, producerId) => {
      if (s) perProducer.push({ producerId, received: s.received.snapshot(), duplicates: s.duplicates, outOfOrder: s.outOfOrder });
    });
    const sums = this.checksummed > 0 ? { checksummed: this.checksummed, corrupted: this.corrupted } : {};
    return { consumerId: this.consumerId, perProducer, deliveries: this.deliveries, malformed: this.malformed, ...sums };
  }
}

/** The counts a ledger always knows (a result file from before them may lack them). */
export type LedgerCounts = DeliveryCounts & Required<Pick<DeliveryCounts, 'ackedAsDuplicate' | 'lostBehindDuplicate'>>;

export interface LedgerVerdict {
  counts: LedgerCounts;
  /** human-readable findings, empty when delivery was perfect */
  problems: string[];
  malformed: number;
}

/** One producer's half against what arrived from it: adds to `counts`, returns its problems. */
function reconcileProducer(p: ProducerLedgerSnapshot, got: SeqSet, counts: LedgerCounts): string[] {
  const acked = SeqSet.fromSnapshot(p.acked);
  const failed = SeqSet.fromSnapshot(p.failed);
  const unknown = SeqSet.fromSnapshot(p.unknown);
  const duplicate = SeqSet.fromSnapshot(p.duplicate);
  // Acknowledged either way: stored now, or said to be held from an earlier send.
  const answered = SeqSet.union(acked, duplicate);
  counts.sent += p.sent;
  counts.acked += acked.size;
  // A duplicate answer to a resend of a message acked before says nothing new: only the
  // sequences whose one acknowledgement is a duplicate answer rest on the system's claim.
  const duplicateOnly = duplicate.countMissingFrom(acked);
  counts.ackedAsDuplicate += duplicateOnly;
  // A re-sent message can be unanswered once and acknowledged the second time: acked wins.
  const failedOnly = failed.countMissingFrom(answered);
  const unknownOnly = unknown.countMissingFrom(answered);
  counts.failed += failedOnly;
  counts.unknown += unknownOnly;
  const gotBelowSent = got.countBelow(p.sent);
  const failedDelivered = failed.size - failed.countMissingFrom(got);
  // lost: sent, not definitely rejected, never received
  const lost = p.sent - gotBelowSent - (failed.size - failedDelivered);
  counts.lost += lost;
  const ackedLost = acked.countMissingFrom(got);
  counts.ackedLost += ackedLost;
  const ackedOrGot = SeqSet.union(acked, got);
  const behindDuplicate = duplicate.countMissingFrom(ackedOrGot);
  counts.lostBehindDuplicate += behindDuplicate;
  counts.unackedDelivered += got.countMissingFrom(answered);
  const problems: string[] = [];
  const id = `producer ${p.producerId}`;
  if (got.size > gotBelowSent) problems.push(`${id}: ${got.size - gotBelowSent} received sequences were never sent`);
  if (lost > 0) problems.push(`${id}: ${lost} lost, e.g. seq ${got.firstAbsent(p.sent, 5).join(', ')}`);
  if (ackedLost > 0) problems.push(`${id}: ${ackedLost} acknowledged messages never arrived`);
  if (behindDuplicate > 0) {
    problems.push(
      `${id}: ${behindDuplicate} lost behind a duplicate answer: the system said it already held them from an earlier send, and they never arrived (e.g. seq ${duplicate.firstMissingFrom(ackedOrGot, 5).join(', ')})`,
    );
  }
  if (p.doubleAcks > p.resent) problems.push(`${id}: ${p.doubleAcks} sequences acknowledged twice (adapter bug)`);
  if (failedOnly > 0) problems.push(`${id}: ${failedOnly} rejected by the system (${p.failureReasons.slice(0, 3).join('; ')})`);
  if (unknownOnly > 0) problems.push(`${id}: ${unknownOnly} without an answer (${p.failureReasons.slice(0, 3).join('; ')})`);
  return problems;
}

/** Entries consumers threw away: a loss the consumer caused, never left for the reader to guess. */
function discardProblem(discards: readonly DiscardedEntries[]): { entries: number; problem?: string } {
  const entries = discards.reduce((n, d) => n + d.entries, 0);
  if (entries === 0) return { entries };
  const reasons = [...new Set(discards.flatMap((d) => d.reasons))].slice(0, 5);
  return { entries, problem: `${entries} entries discarded: ${reasons.join('; ') || 'no reason given'} (the consumer acknowledged them undelivered; their messages count as lost)` };
}

/**
 * Merges both halves and derives the run's delivery counts. `discards`: what each
 * consumer (and pipeline stage) that can tell threw away undelivered; none given, the
 * count is left out, not claimed 0.
 */
export function reconcile(producers: ProducerLedgerSnapshot[], consumers: ConsumerLedgerSnapshot[], discards: readonly DiscardedEntries[] = []): LedgerVerdict {
  const received = new Map<number, SeqSet>();
  let duplicated = 0;
  let redelivered = 0;
  let outOfOrder = 0;
  let deliveries = 0;
  let malformed = 0;
  let checksummed = 0;
  let corrupted = 0;
  for (const c of consumers) {
    deliveries += c.deliveries;
    malformed += c.malformed;
    checksummed += c.checksummed ?? 0;
    corrupted += c.corrupted ?? 0;
    for (const p of c.perProducer) {
      duplicated += p.duplicates;
      redelivered += p.duplicates;
      outOfOrder += p.outOfOrder;
      const set = SeqSet.fromSnapshot(p.received);
      const mine = received.get(p.producerId);
      // The same message at two consumers is a duplicate too, though each consumer saw it
      // once; the consumers' FirstSeen bitmap keeps it out of throughput and e2e.
      if (mine) duplicated += mine.addAll(set);
      // a copy: the union must not grow into this consumer's snapshot, which a shard's
      // result still writes after the verdict (fromSnapshot shares the words)
      else received.set(p.producerId, SeqSet.union(set));
    }
  }

  const counts: LedgerCounts = {
    sent: 0,
    acked: 0,
    ackedAsDuplicate: 0,
    failed: 0,
    unknown: 0,
    received: deliveries,
    lost: 0,
    ackedLost: 0,
    lostBehindDuplicate: 0,
    unackedDelivered: 0,
    duplicated,
    outOfOrder,
    redelivered,
  };
  const problems: string[] = [];
  const producerIds = new Set(producers.map((p) => p.producerId));
  for (const p of producers) problems.push(...reconcileProducer(p, received.get(p.producerId) ?? new SeqSet(), counts));
  for (const id of received.keys()) {
    if (!producerIds.has(id)) problems.push(`received messages from producer ${id}, which this run never had`);
  }
  if (duplicated > 0) problems.push(`${duplicated} duplicate deliveries${redelivered < duplicated ? ` (${duplicated - redelivered} at a second consumer)` : ''}`);
  if (outOfOrder > 0) problems.push(`${outOfOrder} messages out of order within a producer`);
  if (malformed > 0) problems.push(`${malformed} payloads were not busbench messages`);
  if (checksummed > 0) {
    counts.checksummed = checksummed;
    counts.corrupted = corrupted;
    if (corrupted > 0) problems.push(`${corrupted} of ${checksummed} checked messages arrived corrupted (the body no longer matches the checksum its envelope carries)`);
  }
  if (discards.length > 0) {
    const d = discardProblem(discards);
    counts.discardedEntries = d.entries;
    if (d.problem) problems.push(d.problem);
  }
  return { counts, problems, malformed };
}
