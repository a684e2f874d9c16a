/**
 * The delivery ledger: what every producer sent and had acknowledged, and what every
 * consumer received, per (producer, sequence). Producers and consumers keep their halves
 * in their own workers; the main thread merges them at the end and derives the counts
 * that a run reports: lost, duplicated, out of order, acknowledged-but-lost.
 */
import type { AckSink } from '../core/contract.ts';
import type { DeliveryCounts } from '../core/result.ts';
import { SeqSet, type SeqSetSnapshot } from './seqset.ts';

export interface ProducerLedgerSnapshot {
  producerId: number;
  /** sequences 0..sent-1 were handed to the system */
  sent: number;
  acked: SeqSetSnapshot;
  failed: SeqSetSnapshot;
  unknown: SeqSetSnapshot;
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

  /** sequences that reached one of the three outcomes */
  get settled(): number {
    return this.ackedSet.size + this.failedSet.size + this.unknownSet.size;
  }

  snapshot(): ProducerLedgerSnapshot {
    return {
      producerId: this.producerId,
      sent: this.sent,
      acked: this.ackedSet.snapshot(),
      failed: this.failedSet.snapshot(),
      unknown: this.unknownSet.snapshot(),
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
}

/** The consumer's half: one record per message received. */
export class ConsumerLedger {
  private readonly streams: Array<ProducerStream | undefined> = [];
  deliveries = 0;
  /** distinct (producer, seq) seen by this consumer */
  unique = 0;
  malformed = 0;

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
    return { consumerId: this.consumerId, perProducer, deliveries: this.deliveries, malformed: this.malformed };
  }
}

export interface LedgerVerdict {
  counts: DeliveryCounts;
  /** human-readable findings, empty when delivery was perfect */
  problems: string[];
  malformed: number;
}

/** Merges both halves and derives the run's delivery counts. */
export function reconcile(producers: ProducerLedgerSnapshot[], consumers: ConsumerLedgerSnapshot[]): LedgerVerdict {
  const received = new Map<number, SeqSet>();
  let duplicated = 0;
  let redelivered = 0;
  let outOfOrder = 0;
  let deliveries = 0;
  let malformed = 0;
  for (const c of consumers) {
    deliveries += c.deliveries;
    malformed += c.malformed;
    for (const p of c.perProducer) {
      duplicated += p.duplicates;
      redelivered += p.duplicates;
      outOfOrder += p.outOfOrder;
      const set = SeqSet.fromSnapshot(p.received);
      const mine = received.get(p.producerId);
      // The same message at two consumers is a duplicate too, though each consumer saw it
      // once; the consumers' FirstSeen bitmap keeps it out of throughput and e2e.
      if (mine) duplicated += mine.addAll(set);
      else received.set(p.producerId, set);
    }
  }

  const counts: DeliveryCounts = {
    sent: 0,
    acked: 0,
    failed: 0,
    unknown: 0,
    received: deliveries,
    lost: 0,
    ackedLost: 0,
    unackedDelivered: 0,
    duplicated,
    outOfOrder,
    redelivered,
  };
  const problems: string[] = [];
  const producerIds = new Set(producers.map((p) => p.producerId));
  for (const p of producers) {
    const acked = SeqSet.fromSnapshot(p.acked);
    const failed = SeqSet.fromSnapshot(p.failed);
    const unknown = SeqSet.fromSnapshot(p.unknown);
    const got = received.get(p.producerId) ?? new SeqSet();
    counts.sent += p.sent;
    counts.acked += acked.size;
    // A re-sent message can be unanswered once and acknowledged the second time: acked wins.
    const failedOnly = failed.countMissingFrom(acked);
    const unknownOnly = unknown.countMissingFrom(acked);
    counts.failed += failedOnly;
    counts.unknown += unknownOnly;
    const gotBelowSent = got.countBelow(p.sent);
    const failedDelivered = failed.size - failed.countMissingFrom(got);
    // lost: sent, not definitely rejected, never received
    const lost = p.sent - gotBelowSent - (failed.size - failedDelivered);
    counts.lost += lost;
    const ackedLost = acked.countMissingFrom(got);
    counts.ackedLost += ackedLost;
    counts.unackedDelivered += got.countMissingFrom(acked);
    if (got.size > gotBelowSent) problems.push(`producer ${p.producerId}: ${got.size - gotBelowSent} received sequences were never sent`);
    if (lost > 0) problems.push(`producer ${p.producerId}: ${lost} lost, e.g. seq ${got.firstAbsent(p.sent, 5).join(', ')}`);
    if (ackedLost > 0) problems.push(`producer ${p.producerId}: ${ackedLost} acknowledged messages never arrived`);
    if (p.doubleAcks > p.resent) problems.push(`producer ${p.producerId}: ${p.doubleAcks} sequences acknowledged twice (adapter bug)`);
    if (failedOnly > 0) problems.push(`producer ${p.producerId}: ${failedOnly} rejected by the system (${p.failureReasons.slice(0, 3).join('; ')})`);
    if (unknownOnly > 0) problems.push(`producer ${p.producerId}: ${unknownOnly} without an answer (${p.failureReasons.slice(0, 3).join('; ')})`);
  }
  for (const id of received.keys()) {
    if (!producerIds.has(id)) problems.push(`received messages from producer ${id}, which this run never had`);
  }
  if (duplicated > 0) problems.push(`${duplicated} duplicate deliveries${redelivered < duplicated ? ` (${duplicated - redelivered} at a second consumer)` : ''}`);
  if (outOfOrder > 0) problems.push(`${outOfOrder} messages out of order within a producer`);
  if (malformed > 0) problems.push(`${malformed} payloads were not busbench messages`);
  return { counts, problems, malformed };
}
