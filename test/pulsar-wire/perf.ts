/**
 * Throughput of the wire client against a real broker: 512-byte messages, batching on
 * (default 1000 messages / 10 ms), one producer and one consumer in this process.
 *
 *   npx tsx test/pulsar-wire/perf.ts                       # starts a native standalone
 *   npx tsx test/pulsar-wire/perf.ts pulsar://127.0.0.1:6650 http://127.0.0.1:8080
 *   options: --messages 1000000 --size 512 --batch 1000 --delay 10 --pending 10000
 *
 * Phases: (1) publish only, counting receipts per second; (2) drain those with the
 * consumer; (3) publish and consume at once (end to end). Not a vitest file: it takes a
 * while and its numbers are for reading, not asserting.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pulsarDeployment } from '../../src/brokers/pulsar/deployment.ts';
import type { BrokerDeployment } from '../../src/brokers/broker.ts';
import { PulsarClient } from '../../src/adapters/pulsar/wire/index.ts';

const args = process.argv.slice(2);
function opt(name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}
const positional = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const MESSAGES = opt('messages', 1_000_000);
const SIZE = opt('size', 512);
const BATCH = opt('batch', 1000);
const DELAY = opt('delay', 10);
const PENDING = opt('pending', 10_000);

let broker: BrokerDeployment | undefined;
let dir: string | undefined;
let serviceUrl = positional[0];
if (!serviceUrl) {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-pulsar-perf-'));
  const b = pulsarDeployment('native', { dir, log: (l) => console.error(l) });
  broker = b;
  await b.start();
  serviceUrl = b.urls()[0]!;
}

const client = new PulsarClient({ serviceUrl, log: (l) => console.error(l) });
const payload = new Uint8Array(SIZE * 100).fill(7);

async function publish(topic: string, name: string, n: number): Promise<{ ms: number; acked: number }> {
  let acked = 0;
  let failed = 0;
  const producer = await client.createProducer({
    topic,
    producerName: name,
    batchMaxMessages: BATCH,
    batchMaxDelayMs: DELAY,
    batchMaxBytes: 4 * 1024 * 1024,
    maxPendingMessages: PENDING,
    onEntry: (_seq, count, err) => {
      if (err) failed += count;
      else acked += count;
    },
  });
  const t0 = performance.now();
  let seq = 0;
  while (seq < n) {
    const room = producer.room;
    if (room <= 0) {
      await producer.waitForRoom();
      continue;
    }
    const k = Math.min(room, 100, n - seq);
    producer.sendMessages(payload, SIZE, k, seq);
    seq += k;
    if ((seq & 0x3fff) < k) await new Promise<void>((r) => setImmediate(r));
  }
  await producer.flush(60_000);
  const ms = performance.now() - t0;
  await producer.close();
  if (failed > 0) throw new Error(`${failed} messages failed`);
  return { ms, acked };
}

async function consume(topic: string, sub: string, n: number): Promise<{ ms: number; received: number }> {
  const consumer = await client.subscribe({ topic, subscription: sub, subType: 'Exclusive', initialPosition: 'earliest', receiverQueueSize: 4 * BATCH });
  let received = 0;
  let t0 = 0;
  while (received < n) {
    let b = consumer.receiveBatch(1000, 5_000);
    if (b instanceof Promise) b = await b;
    if (b.count === 0) throw new Error(`consumer stalled after ${received} of ${n}`);
    if (t0 === 0) t0 = performance.now();
    for (let i = 0; i < b.count; i++) if (b.length(i) !== SIZE) throw new Error('bad length');
    received += b.count;
    consumer.ackBatch(b);
  }
  const ms = performance.now() - t0;
  await consumer.close();
  return { ms, received };
}

const rate = (n: number, ms: number): string => `${Math.round(n / (ms / 1000)).toLocaleString('en-US')} msg/s (${((n * SIZE) / (ms / 1000) / 1e6).toFixed(1)} MB/s)`;

try {
  console.log(`pulsar wire perf: ${MESSAGES} x ${SIZE} B, batches of ${BATCH} / ${DELAY} ms, ${PENDING} pending, Node ${process.version}, ${os.cpus().length} cores`);
  const t1 = `persistent://public/default/perf-${Date.now()}`;
  // The subscription exists before publishing so phase 2 reads everything.
  await (await client.subscribe({ topic: t1, subscription: 'drain', initialPosition: 'earliest' })).close();
  const p = await publish(t1, 'perf-publish', MESSAGES);
  console.log(`1. publish only:        ${rate(p.acked, p.ms)}`);
  const c = await consume(t1, 'drain', MESSAGES);
  console.log(`2. consume backlog:     ${rate(c.received, c.ms)}`);
  const t2 = `persistent://public/default/perf-e2e-${Date.now()}`;
  await (await client.subscribe({ topic: t2, subscription: 'e2e', initialPosition: 'earliest' })).close();
  const t0 = performance.now();
  const [pp, cc] = await Promise.all([publish(t2, 'perf-e2e', MESSAGES), consume(t2, 'e2e', MESSAGES)]);
  const total = performance.now() - t0;
  console.log(`3. publish + consume:   ${rate(cc.received, total)} end to end (publish side ${rate(pp.acked, pp.ms)})`);
} finally {
  await client.close();
  await broker?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}
