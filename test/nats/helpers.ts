import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SystemSession } from '../../src/core/contract.ts';
import { encodeTemplate, readProducer, readSeq, stampBatch } from '../../src/core/envelope.ts';
import { ConsumerLedger, ProducerLedger, reconcile } from '../../src/checks/ledger.ts';
import { adapter } from '../../src/adapters/nats/index.ts';
import { workerSide } from '../../src/adapters/nats/worker.ts';

export const control = { stopping: () => false };

export async function openNats(options: Record<string, unknown>, runId: string): Promise<{ session: SystemSession; dir: string; opts: Record<string, unknown> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-nats-'));
  const opts = adapter.parseOptions(options, 'test');
  const session = await adapter.open({
    runId, runDir: dir, producers: 1, consumers: 1, messageSize: 512, maxInFlight: 500, brokers: 'native', externalUrls: {}, options: opts, log: () => undefined,
  });
  return { session, dir, opts };
}

/** Publishes `count` envelope messages as producer 0 and waits for every ack. */
export async function publish(session: SystemSession, count: number, firstSeq = 0): Promise<ProducerLedger> {
  const ledger = new ProducerLedger(0);
  const producer = await workerSide.createProducer(session.workerInit, { producerId: 0, messageSize: 512, maxInFlight: 500, control }, ledger);
  const batchSize = 100;
  const bytes = new Uint8Array(512 * batchSize);
  const t = encodeTemplate(512, 0);
  for (let i = 0; i < batchSize; i++) bytes.set(t, i * 512);
  for (let seq = firstSeq; seq < firstSeq + count; seq += batchSize) {
    const n = Math.min(batchSize, firstSeq + count - seq);
    stampBatch(bytes, 512, n, seq, 1, Date.now());
    await producer.send({ bytes, size: 512, count: n, producerId: 0, firstSeq: seq });
    ledger.sent = seq + n;
  }
  await producer.flush(20_000);
  await producer.close();
  return ledger;
}

/** Consumes until `expected` distinct messages arrived or `ms` passed, acking each batch. */
export async function consume(session: SystemSession, expected: number, ms = 20_000): Promise<ConsumerLedger> {
  const ledger = new ConsumerLedger(0);
  const consumer = await workerSide.createConsumer(session.workerInit, { consumerId: 0, consumers: 1, producers: 1, messageSize: 512, control });
  const deadline = Date.now() + ms;
  while (ledger.unique < expected && Date.now() < deadline) {
    const b = await consumer.receive(256, 200);
    for (let i = 0; i < b.count; i++) ledger.record(readProducer(b.buffer(i), b.offset(i)), readSeq(b.buffer(i), b.offset(i)));
    await consumer.ack(b);
  }
  await consumer.close();
  return ledger;
}

export { reconcile };
