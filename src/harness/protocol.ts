/** Messages between the runner and its worker threads (structured-cloned). */
import type { Cloneable, DiscardedEntries } from '../core/contract.ts';
import type { KeyPlan } from '../core/keys.ts';
import type { PayloadPlan } from '../core/payload.ts';
import type { PackedSparse, SparseHistogram } from '../core/histogram.ts';
import type { RateSegment } from '../core/rate-profile.ts';
import type { ConsumerLedgerSnapshot, ProducerLedgerSnapshot } from '../checks/ledger.ts';
import type { ApplyLedgerSnapshot } from '../checks/apply-ledger.ts';
import type { Capabilities } from '../core/contract.ts';
import type { ApplyBehaviour, Guarantee } from '../scenario/scenario.ts';
import type { ControlBuffers } from './control.ts';

export interface LoadSettings {
  messageSize: number;
  batchSize: number;
  maxInFlight: number;
  /** messages per second for this producer (a schedule's warm-up rate); 0 = closed loop (as fast as acks allow) */
  ratePerSec: number;
  /** the measured window's rate schedule, all producers together; absent: ratePerSec throughout */
  rateSegments?: RateSegment[];
  intervalMs: number;
  drainTimeoutMs: number;
  workUs: number;
  /** a producer re-sends an old batch this often (exactly-once scenario; 0 = never) */
  retryEveryMs: number;
  producers: number;
  consumers: number;
  /** consumers check order per key when messages carry keys */
  keys: KeyPlan;
  /** producers send pool messages of this plan, consumers verify their bodies (absent: the padded order message) */
  payload?: PayloadPlan;
}

/** What a consuming worker of the exactly-once scenario needs. */
export interface ApplySettings {
  guarantee: Guarantee;
  behaviour: ApplyBehaviour;
  accounts: number;
  crashEveryMs: number;
  capabilities: Capabilities;
}

export interface WorkerStart {
  /** a forwarder is a middle pipeline stage: it consumes `stage` and publishes to `stage + 1` */
  role: 'producer' | 'consumer' | 'forwarder';
  /** the stage a consumer or forwarder reads (producers publish to stage 0) */
  stage: number;
  /** the consumer applies to a state and crashes on schedule (exactly-once scenario) */
  apply?: ApplySettings;
  /** producer or consumer id; also the counter slot (consumers after producers) */
  id: number;
  slot: number;
  system: string;
  workerModule: string;
  init: Cloneable;
  control: ControlBuffers;
  load: LoadSettings;
  /**
   * consumers of a run with more than one consumer: per producer, which messages any of
   * them has received (checks/first-seen.ts), so each message counts once in throughput,
   * e2e and the drain
   */
  firstSeen?: SharedArrayBuffer[];
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'interval'; index: number; received: number; hist: PackedSparse }
  /** a producer's interval of hand-over time: messages sent, and their send delay (fixed rate) */
  | { type: 'send-interval'; index: number; sent: number; sendDelay: PackedSparse }
  | {
      type: 'producer-done';
      ledger: ProducerLedgerSnapshot;
      publish: SparseHistogram;
      publishMissed: number;
      resent: number;
      /** intended send time → hand-over, messages intended inside the window (fixed rate) */
      sendDelay: SparseHistogram;
      /** messages of this producer's schedule (warm-up + window); 0 in closed loop */
      intended: number;
      /** messages handed over inside the measured window */
      sentInWindow: number;
    }
  | {
      type: 'consumer-done';
      ledger: ConsumerLedgerSnapshot;
      /** first deliveries only */
      e2e: SparseHistogram;
      /** repeat deliveries (same message again, at this or another consumer) */
      redelivery: SparseHistogram;
      receivedInWindow: number;
      /** the bytes of those first deliveries */
      bytesInWindow: number;
      repeatsInWindow: number;
      crashes: number;
      /** first deliveries received in a backlog drain phase; absent when there were none */
      drainPhase?: SparseHistogram;
      /** entries its consumers threw away undelivered; absent where they cannot tell */
      discarded?: DiscardedEntries;
      applied?: ApplyLedgerSnapshot;
      record?: string;
    }
  | { type: 'forwarder-done'; stage: number; forwarded: number; crashes: number; aborted: number; discarded?: DiscardedEntries }
  | { type: 'error'; message: string; stack?: string };
