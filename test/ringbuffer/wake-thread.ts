/**
 * Worker entry for wakeup.test.ts: one side of a lane in mode block, with a park slice
 * far longer than the test, so only the other side's notify can wake it in time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openLane } from '../../src/adapters/ringbuffer/layout.ts';
import { BatchRouter } from '../../src/adapters/ringbuffer/routing.ts';
import { RingConsumer } from '../../src/adapters/ringbuffer/consumer.ts';
import { laneTarget, RingProducer } from '../../src/adapters/ringbuffer/producer.ts';
import type { WaitStats } from '../../src/adapters/ringbuffer/waiting.ts';
import { batchBytes, NEVER_STOP } from './helpers.ts';

export interface WakeJob {
  role: 'producer' | 'consumer';
  lane: SharedArrayBuffer;
  doorbells: SharedArrayBuffer;
  sliceMs: number;
}

export interface WakeReport {
  /** messages received (consumer) or acked (producer) */
  count: number;
  stats: WaitStats;
}

const job = workerData as WakeJob;
const lane = openLane(job.lane, true);
const bell = new Int32Array(job.doorbells);
let report: WakeReport;
if (job.role === 'consumer') {
  const consumer = new RingConsumer([lane], bell, 0, 'block', NEVER_STOP, job.sliceMs);
  const b = consumer.receive(100, 10 * job.sliceMs);
  report = { count: b.count, stats: consumer.waiter.stats };
} else {
  let acked = 0;
  const acks = { acked: (_s: number, n: number) => (acked += n), failed: () => undefined, unknown: () => undefined, duplicate: () => undefined };
  const target = laneTarget(lane, bell, 0);
  const producer = new RingProducer(() => target, new BatchRouter(undefined), 'block', NEVER_STOP, acks, false, job.sliceMs);
  // 20 messages of 100 bytes in a 1 KiB lane: 10 fit, then it parks until the reader commits.
  producer.send({ bytes: batchBytes(0, 20, 100), size: 100, count: 20, producerId: 0, firstSeq: 0 });
  report = { count: acked, stats: producer.waiter.stats };
}
parentPort!.postMessage(report);
