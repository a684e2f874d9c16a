/**
 * Worker entry for threads.test.ts: one producer or one consumer of a real ring session,
 * built through the adapter's workerSide exactly as the harness does.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { OutboundBatch, RunControl } from '../../src/core/contract.ts';
import type { RingInit } from '../../src/adapters/ringbuffer/init.ts';
import { encodeTemplate, looksLikeEnvelope, readProducer, readSeq, stamp } from '../../src/core/envelope.ts';
import { workerSide } from '../../src/adapters/ringbuffer/worker.ts';
import { lanesOf } from '../../src/adapters/ringbuffer/lanes.ts';
import { rng } from './helpers.ts';

export interface ThreadJob {
  role: 'producer' | 'consumer';
  id: number;
  init: RingInit;
  producers: number;
  consumers: number;
  perProducer: number;
  size: number;
  /** Int32[0] !== 0: stop (the test's safety net against a hang) */
  stop: SharedArrayBuffer;
}

export interface ProducerReport {
  acked: number;
  failed: number;
}

export interface ConsumerReport {
  /** per producer served: messages received, and the first few problems */
  received: Record<number, number>;
  problems: string[];
}

const job = workerData as ThreadJob;
const stopWord = new Int32Array(job.stop);
const control: RunControl = { stopping: () => Atomics.load(stopWord, 0) !== 0 };
const MAX_BATCH = 200;

async function produce(): Promise<ProducerReport> {
  const report: ProducerReport = { acked: 0, failed: 0 };
  const producer = await workerSide.createProducer(
    job.init,
    { producerId: job.id, messageSize: job.size, maxInFlight: 1000, control },
    { acked: (_s, n) => (report.acked += n), failed: (_s, n) => (report.failed += n), unknown: () => undefined, duplicate: () => undefined },
  );
  const template = encodeTemplate(job.size, job.id);
  const staging = new Uint8Array(job.size * MAX_BATCH);
  for (let i = 0; i < MAX_BATCH; i++) staging.set(template, i * job.size);
  const r = rng(1000 + job.id);
  for (let seq = 0; seq < job.perProducer && !control.stopping(); ) {
    const count = Math.min(1 + r(MAX_BATCH), job.perProducer - seq);
    for (let i = 0; i < count; i++) stamp(staging, i * job.size, seq + i, 0, 0);
    const batch: OutboundBatch = { bytes: staging.subarray(0, count * job.size), size: job.size, count, producerId: job.id, firstSeq: seq };
    await producer.send(batch);
    seq += count;
  }
  await producer.flush(1000);
  await producer.close();
  return report;
}

async function consume(): Promise<ConsumerReport> {
  const consumer = await workerSide.createConsumer(job.init, {
    consumerId: job.id,
    consumers: job.consumers,
    producers: job.producers,
    messageSize: job.size,
    control,
  });
  const mine = lanesOf({ producers: job.producers, consumers: job.consumers, stages: 1 }, job.id, 0);
  const next = new Map(mine.map((p) => [p, 0]));
  const report: ConsumerReport = { received: Object.fromEntries(mine.map((p) => [p, 0])), problems: [] };
  const expected = mine.length * job.perProducer;
  const problem = (s: string): void => {
    if (report.problems.length < 10) report.problems.push(s);
  };
  let total = 0;
  const r = rng(2000 + job.id);
  while (total < expected && !control.stopping()) {
    const b = await consumer.receive(1 + r(300), 50);
    for (let i = 0; i < b.count; i++) {
      const buf = b.buffer(i);
      const off = b.offset(i);
      total++;
      if (b.length(i) !== job.size || !looksLikeEnvelope(buf, off, b.length(i))) {
        problem(`malformed message of ${b.length(i)} bytes`);
        continue;
      }
      const p = readProducer(buf, off);
      const seq = readSeq(buf, off);
      const want = next.get(p);
      if (want === undefined) problem(`message from producer ${p}, whose lane this consumer does not serve`);
      else if (seq !== want) problem(`producer ${p}: seq ${seq} where ${want} was due (${seq < want ? 'duplicate' : 'gap'})`);
      next.set(p, Math.max(want ?? 0, seq + 1));
      report.received[p] = (report.received[p] ?? 0) + 1;
    }
    await consumer.ack(b);
  }
  await consumer.close();
  return report;
}

const run = job.role === 'producer' ? produce() : consume();
run.then(
  (report) => parentPort!.postMessage({ ok: true, report }),
  (err: unknown) => parentPort!.postMessage({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
);
