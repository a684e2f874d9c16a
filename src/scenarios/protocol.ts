/** Messages between the runner and its worker threads (structured-cloned). */
import type { Cloneable } from '../core/contract.ts';
import type { SparseHistogram } from '../core/histogram.ts';
import type { ConsumerLedgerSnapshot, ProducerLedgerSnapshot } from '../checks/ledger.ts';
import type { ControlBuffers } from './control.ts';

export interface LoadSettings {
  messageSize: number;
  batchSize: number;
  maxInFlight: number;
  /** messages per second for this producer; 0 = closed loop (as fast as acks allow) */
  ratePerSec: number;
  intervalMs: number;
  drainTimeoutMs: number;
  workUs: number;
  producers: number;
  consumers: number;
}

export interface WorkerStart {
  role: 'producer' | 'consumer';
  /** producer or consumer id; also the counter slot (consumers after producers) */
  id: number;
  slot: number;
  system: string;
  workerModule: string;
  init: Cloneable;
  control: ControlBuffers;
  load: LoadSettings;
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'interval'; index: number; received: number; hist: SparseHistogram }
  | { type: 'producer-done'; ledger: ProducerLedgerSnapshot; publish: SparseHistogram; publishMissed: number }
  | { type: 'consumer-done'; ledger: ConsumerLedgerSnapshot; e2e: SparseHistogram; receivedInWindow: number }
  | { type: 'error'; message: string; stack?: string };
