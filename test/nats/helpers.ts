import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { OpenContext, OutboundBatch, Producer, SystemSession } from '../../src/core/contract.ts';
import { encodeTemplate, readProducer, readSeq, stampBatch } from '../../src/core/envelope.ts';
import { ConsumerLedger, ProducerLedger, reconcile } from '../../src/checks/ledger.ts';
import { adapter, type NatsWorkerInit } from '../../src/adapters/nats/index.ts';
import type { NatsOptions } from '../../src/adapters/nats/options.ts';
import { workerSide } from '../../src/adapters/nats/worker.ts';

export const SIZE = 512;
export const control = { stopping: () => false };

const dirs: string[] = [];

export function tempDir(prefix = 'busbench-nats-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export async function openNats(options: Record<string, unknown>, runId: string, ctx: Partial<OpenContext<NatsOptions>> = {}): Promise<{ session: SystemSession<NatsWorkerInit>; opts: NatsOptions }> {
  const opts = adapter.parseOptions(options, 'test');
  const session = await adapter.open({
    runId,
    runDir: tempDir(),
    producers: 1,
    consumers: 1,
    messageSize: SIZE,
    maxInFlight: 500,
    brokers: 'native',
    externalUrls: {},
    options: opts,
    log: () => undefined,
    ...ctx,
  });
  return { session, opts };
}

export async function createProducer(session: SystemSession<NatsWorkerInit>, producerId = 0, maxInFlight = 500, stage?: number): Promise<{ producer: Producer; ledger: ProducerLedger }> {
  const ledger = new ProducerLedger(producerId);
  const producer = await workerSide.createProducer(session.workerInit, { producerId, stage, messageSize: SIZE, maxInFlight, control }, ledger);
  return { producer, ledger };
}

/** A batch of `count` stamped messages of producer `origin`, sequences from `firstSeq`. */
export function batchOf(origin: number, firstSeq: number, count: number): OutboundBatch {
  const bytes = new Uint8Array(SIZE * count);
  const t = encodeTemplate(SIZE, origin);
  for (let i = 0; i < count; i++) bytes.set(t, i * SIZE);
  stampBatch(bytes, SIZE, count, firstSeq, 1, Date.now());
  return { bytes, size: SIZE, count, producerId: origin, firstSeq };
}

/** Sends sequences [firstSeq, firstSeq+count) in 100-message batches and waits for every ack. */
export async function sendAll(producer: Producer, ledger: ProducerLedger, count: number, firstSeq = 0): Promise<void> {
  const batchSize = 100;
  const bytes = new Uint8Array(SIZE * batchSize);
  const t = encodeTemplate(SIZE, ledger.producerId);
  for (let i = 0; i < batchSize; i++) bytes.set(t, i * SIZE);
  for (let seq = firstSeq; seq < firstSeq + count; seq += batchSize) {
    const n = Math.min(batchSize, firstSeq + count - seq);
    stampBatch(bytes, SIZE, n, seq, 1, Date.now());
    ledger.sent = seq + n;
    await producer.send({ bytes, size: SIZE, count: n, producerId: ledger.producerId, firstSeq: seq });
  }
  await producer.flush(20_000);
}

/** A producer of its own publishes `count` messages, then closes. */
export async function publish(session: SystemSession<NatsWorkerInit>, count: number, producerId = 0): Promise<ProducerLedger> {
  const { producer, ledger } = await createProducer(session, producerId);
  await sendAll(producer, ledger, count);
  await producer.close();
  return ledger;
}

/** Receives (and acks) until `expected` distinct messages arrived or `ms` passed. */
export async function consume(session: SystemSession<NatsWorkerInit>, expected: number, ms = 20_000, stage?: number): Promise<ConsumerLedger> {
  const ledger = new ConsumerLedger(0);
  const consumer = await workerSide.createConsumer(session.workerInit, { consumerId: 0, stage, consumers: 1, producers: 1, messageSize: SIZE, control });
  const deadline = Date.now() + ms;
  while (ledger.unique < expected && Date.now() < deadline) {
    const b = await consumer.receive(256, 200);
    for (let i = 0; i < b.count; i++) ledger.record(readProducer(b.buffer(i), b.offset(i)), readSeq(b.buffer(i), b.offset(i)));
    await consumer.ack(b);
  }
  await consumer.close();
  return ledger;
}

/** Every sent sequence ended in exactly one of acked / failed / unknown. */
export function settledOnce(ledger: ProducerLedger): boolean {
  const sets = [ledger.ackedSet, ledger.failedSet, ledger.unknownSet];
  for (let seq = 0; seq < ledger.sent; seq++) {
    if (sets.filter((s) => s.has(seq)).length !== 1) return false;
  }
  return ledger.doubleAcks === 0;
}

/** Polls `read` until `ok` holds or 10 s pass; returns the last value read either way. */
export async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export { reconcile };
