/**
 * A shard: one of N busbench processes that together run one scenario, each with its own
 * producers and consumers, anchored at a common wall-clock start. A shard's result file
 * carries what a merge needs to rebuild one result: where its ids and its window sit in
 * the whole run, and its delivery ledgers in a compact form (sequence sets as ranges).
 */

/** Where a shard sits in the whole run. */
export interface ShardInfo {
  /** 0-based */
  index: number;
  count: number;
  /** the common start (--start-at) as given, ISO 8601 */
  startAt: string;
  /** this shard's producers are ids [producerIdFrom, producerIdFrom + producers) of the whole run */
  producerIdFrom: number;
  producers: number;
  consumerIdFrom: number;
  consumers: number;
  /**
   * the measured window on the wall clock (ms since the epoch), mapped from the monotonic
   * clock once, at the start: merge aligns shards by it
   */
  windowStartEpochMs: number;
  windowEndEpochMs: number;
  /** Date.now() − the mapped start when the warm-up began: how late this shard started (ms) */
  startLateMs: number;
}

/**
 * A sequence set as sorted, disjoint, non-adjacent half-open ranges, flattened:
 * [from0, to0, from1, to1, ...]. A contiguous run of any length is two numbers.
 */
export type SeqRanges = number[];

export interface CompactProducerLedger {
  producerId: number;
  sent: number;
  acked: SeqRanges;
  failed: SeqRanges;
  unknown: SeqRanges;
  duplicate: SeqRanges;
  doubleAcks: number;
  resent: number;
  failureReasons: string[];
  /** acks that came too late to be timed (judge's lateAckNote); absent when none */
  publishMissed?: number;
}

export interface CompactConsumerLedger {
  consumerId: number;
  perProducer: Array<{ producerId: number; received: SeqRanges; duplicates: number; outOfOrder: number }>;
  deliveries: number;
  malformed: number;
  checksummed?: number;
  corrupted?: number;
}

export interface CompactApplyLedger {
  perProducer: Array<{ producerId: number; applied: SeqRanges; appliedTwice: SeqRanges; extraApplications: number }>;
  balances: number[];
  skipped: number;
}

/** A shard's delivery ledgers, ids already those of the whole run. */
export interface ShardLedger {
  producers: CompactProducerLedger[];
  consumers: CompactConsumerLedger[];
  /** entries consumers discarded undelivered, per consumer that can tell; absent where none can */
  discards?: Array<{ entries: number; reasons: string[] }>;
  /** the exactly-once scenario: what the consumers' state took in */
  applied?: CompactApplyLedger;
  /** how the consumer recognises what it already applied (exactly-once scenario) */
  record?: string;
  /** the faults that happened in this shard (exactly-once scenario) */
  faultCounts?: { resent: number; consumerCrashes: number; stageCrashes: number; brokerKills: number };
}
