/**
 * Compression and ack grouping against a real Pulsar standalone (one broker for the file,
 * native, as ./broker.test.ts; BUSBENCH_PULSAR_URL + BUSBENCH_PULSAR_ADMIN attach to a
 * running one instead). Every codec's entries go through the broker and back, and the
 * broker's own byte counter shows they were compressed on the wire.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pulsarDeployment, type PulsarDeployment } from '../../src/brokers/pulsar/deployment.ts';
import { PulsarAdmin } from '../../src/brokers/pulsar/admin.ts';
import { PulsarClient, type Consumer } from '../../src/adapters/pulsar/wire/index.ts';
import type { CompressionName } from '../../src/adapters/pulsar/wire/compression.ts';

let broker: PulsarDeployment;
let dir: string | undefined;
let admin: PulsarAdmin;
let serviceUrl: string;
const clients: PulsarClient[] = [];
const NS = 'compression/plain';
let run = 0;

beforeAll(async () => {
  const external = process.env.BUSBENCH_PULSAR_URL;
  if (external) broker = pulsarDeployment('external', { serviceUrl: external, adminUrl: process.env.BUSBENCH_PULSAR_ADMIN });
  else {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-pulsar-compression-'));
    broker = pulsarDeployment('native', { dir });
  }
  await broker.start();
  serviceUrl = broker.urls()[0]!;
  admin = new PulsarAdmin(broker.adminUrl());
  await admin.createTenant('compression', await admin.clusters());
  await admin.createNamespace(NS, { deduplication: false });
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await broker?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function newClient(): PulsarClient {
  const c = new PulsarClient({ serviceUrl, reconnectInitialMs: 50, reconnectMaxMs: 500, log: () => undefined });
  clients.push(c);
  return c;
}

const topic = (name: string): string => `persistent://${NS}/${name}-${Date.now()}-${run++}`;

/** A 512-byte JSON-ish message: its sequence number, then text an order message might hold. */
function message(seq: number): Uint8Array {
  const head = `{"seq":${seq},"account":"ACC-${String(seq % 97).padStart(4, '0')}","symbol":"BTC-USDT","side":"${seq % 2 ? 'buy' : 'sell'}","qty":${seq % 1000},"pad":"`;
  return new TextEncoder().encode(head.padEnd(510, 'x') + '"}');
}

function seqOf(data: Uint8Array): number {
  return Number(/"seq":(\d+)/.exec(Buffer.from(data.subarray(0, 24)).toString())![1]);
}

/** Receives until `n` messages came (or `ms` passed); checks each against message(seq). */
async function drain(c: Consumer, n: number, ms = 30_000): Promise<number[]> {
  const seqs: number[] = [];
  const until = Date.now() + ms;
  while (seqs.length < n && Date.now() < until) {
    let b = c.receiveBatch(500, 200);
    if (b instanceof Promise) b = await b;
    for (let i = 0; i < b.count; i++) {
      const seq = seqOf(b.data(i));
      expect(Buffer.from(b.data(i)).equals(Buffer.from(message(seq)))).toBe(true);
      seqs.push(seq);
    }
    c.ackBatch(b);
  }
  return seqs;
}

async function produce(c: PulsarClient, t: string, compression: CompressionName, first: number, count: number, batching = true): Promise<void> {
  const p = await c.createProducer({ topic: t, compression, batching, batchMaxDelayMs: 5, maxPendingMessages: 5000 });
  for (let i = 0; i < count; i++) {
    const m = message(first + i);
    p.sendMessages(m, m.length, 1, p.nextSequenceId);
  }
  expect(await p.flush(30_000)).toBe(true);
  await p.close();
}

const range = (first: number, n: number): number[] => Array.from({ length: n }, (_, i) => first + i);

describe('pulsar compression against a real broker', () => {
  it('every codec: batched and single entries come back whole and in order, and fewer bytes reach the broker', async () => {
    const c = newClient();
    const bytesIn: Partial<Record<CompressionName, number>> = {};
    for (const codec of ['none', 'lz4', 'zlib', 'zstd', 'snappy'] as const) {
      const t = topic(codec);
      const consumer = await c.subscribe({ topic: t, subscription: 's', initialPosition: 'earliest' });
      await produce(c, t, codec, 0, 2000);
      await produce(c, t, codec, 2000, 20, false);
      expect(await drain(consumer, 2020), codec).toEqual(range(0, 2020));
      expect(consumer.stats.discardedEntries, codec).toBe(0);
      await consumer.close();
      bytesIn[codec] = (await admin.topicStats(t)).bytesInCounter;
    }
    // 2020 messages of 512 bytes, mostly padding: each codec sends a fraction of that.
    expect(bytesIn.none).toBeGreaterThan(2020 * 512);
    for (const codec of ['lz4', 'zlib', 'zstd', 'snappy'] as const) expect(bytesIn[codec], codec).toBeLessThan(bytesIn.none! / 4);
  });

  it('a consumer decodes every codec on one topic, whichever its producers use', async () => {
    const c = newClient();
    const t = topic('mixed');
    const consumer = await c.subscribe({ topic: t, subscription: 's', initialPosition: 'earliest' });
    const codecs = ['lz4', 'none', 'zstd', 'snappy', 'zlib'] as const;
    for (const [k, codec] of codecs.entries()) await produce(c, t, codec, k * 300, 300);
    expect(await drain(consumer, 1500)).toEqual(range(0, 1500));
    expect(consumer.stats.discardedEntries).toBe(0);
    // four of the five producers compressed what they sent
    expect((await admin.topicStats(t)).bytesInCounter).toBeLessThan((1500 * 512) / 2);
  });
});

describe('ack grouping against a real broker', () => {
  /** 3000 messages in 10-message entries, received 50 at a time; returns the ACK commands sent. */
  async function consumeAll(groupMs: number): Promise<{ ackCommands: number; t: string; c: PulsarClient }> {
    const c = newClient();
    const t = topic(`grouping-${groupMs}`);
    const consumer = await c.subscribe({ topic: t, subscription: 's', initialPosition: 'earliest', ackGroupingMs: groupMs });
    const p = await c.createProducer({ topic: t, batchMaxMessages: 10, batchMaxDelayMs: 5, maxPendingMessages: 5000 });
    for (let i = 0; i < 3000; i++) p.sendMessages(message(i), 512, 1, i);
    expect(await p.flush(30_000)).toBe(true);
    const seqs: number[] = [];
    while (seqs.length < 3000) {
      let b = consumer.receiveBatch(50, 2_000);
      if (b instanceof Promise) b = await b;
      if (b.count === 0) break;
      for (let i = 0; i < b.count; i++) seqs.push(seqOf(b.data(i)));
      consumer.ackBatch(b);
    }
    expect(seqs).toEqual(range(0, 3000));
    // Closing sends what the group still holds, so nothing comes again.
    await consumer.close();
    return { ackCommands: consumer.stats.ackCommands, t, c };
  }

  it('sends one ACK per group instead of one per batch, and flushes the group on close', async () => {
    const grouped = await consumeAll(100);
    const immediate = await consumeAll(0);
    // 300 entries in 60 receives: one ACK per receive that completes an entry, without grouping.
    expect(immediate.ackCommands).toBeGreaterThanOrEqual(50);
    expect(grouped.ackCommands).toBeLessThan(immediate.ackCommands / 3);
    for (const { t, c } of [grouped, immediate]) {
      const again = await c.subscribe({ topic: t, subscription: 's', initialPosition: 'earliest' });
      let b = again.receiveBatch(10, 1_500);
      if (b instanceof Promise) b = await b;
      expect(b.count, t).toBe(0);
      const sub = (await admin.topicStats(t)).subscriptions.s!;
      expect(sub.msgBacklog, t).toBe(0);
      await again.close();
    }
  });
});
