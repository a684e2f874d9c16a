/**
 * Keys and routing on a real native standalone (one start for the file): producers route
 * over every partition (round-robin per batch without keys, by key hash with keys), a
 * Key_Shared subscription spreads keyed messages over its consumers with each key at one
 * consumer and in order there, and key-based batches survive broker deduplication.
 *
 * Counts per partition are the broker's own (admin partitioned-stats, perPartition).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/pulsar/index.ts';
import { workerSide } from '../../src/adapters/pulsar/worker.ts';
import type { AckSink, Consumer, OpenContext, Producer, RunControl, SystemSession } from '../../src/core/contract.ts';
import type { PulsarInit } from '../../src/adapters/pulsar/init.ts';
import { encodeTemplate, readProducer, readSeq, stamp } from '../../src/core/envelope.ts';
import { keyIndex, keyText, type KeyPlan } from '../../src/core/keys.ts';
import { pulsarDeployment } from '../../src/brokers/pulsar/deployment.ts';
import type { NativePulsar } from '../../src/brokers/pulsar/native.ts';
import { PulsarAdmin } from '../../src/brokers/pulsar/admin.ts';
import { keyPartition } from '../../src/adapters/pulsar/wire/murmur3.ts';

const SIZE = 256;
const NEVER_STOP: RunControl = { stopping: () => false };
let broker: NativePulsar | undefined;
let dir: string;
let serviceUrl: string;
let adminUrl: string;
let runs = 0;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-pulsar-keys-'));
  broker = pulsarDeployment('native', { dir: path.join(dir, 'broker') });
  await broker.start();
  serviceUrl = broker.urls()[0]!;
  adminUrl = broker.adminUrl();
}, 240_000);

afterAll(async () => {
  await broker?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** One delivered message: who sent it, its sequence, and the partition (lane) it came through. */
interface Got {
  producer: number;
  seq: number;
  lane: number;
}

interface Harness {
  s: SystemSession<PulsarInit>;
  producers: Producer[];
  consumers: Consumer[];
  acked: number[];
  notAcked: number[];
}

async function openHarness(producers: number, consumers: number, options: Record<string, unknown>, keys?: KeyPlan): Promise<Harness> {
  const runId = `k${Date.now()}-${runs++}`;
  const ctx: OpenContext = {
    runId,
    runDir: path.join(dir, runId),
    producers,
    consumers,
    messageSize: SIZE,
    maxInFlight: 1000,
    brokers: 'external',
    externalUrls: { pulsar: serviceUrl },
    options: adapter.parseOptions({ ...options, adminUrl }, 'test'),
    ...(keys ? { keys } : {}),
    log: () => undefined,
  };
  const s = await adapter.open(ctx as OpenContext<ReturnType<typeof adapter.parseOptions>>);
  const init = structuredClone(s.workerInit);
  const acked = new Array<number>(producers).fill(0);
  const notAcked = new Array<number>(producers).fill(0);
  const cons: Consumer[] = [];
  for (let c = 0; c < consumers; c++) cons.push(await workerSide.createConsumer(init, { consumerId: c, consumers, producers, messageSize: SIZE, control: NEVER_STOP }));
  const prods: Producer[] = [];
  for (let p = 0; p < producers; p++) {
    const sink: AckSink = { acked: (_s, n) => (acked[p]! += n), duplicate: (_s, n) => (acked[p]! += n), failed: (_s, n) => (notAcked[p]! += n), unknown: (_s, n) => (notAcked[p]! += n) };
    prods.push(await workerSide.createProducer(init, { producerId: p, messageSize: SIZE, maxInFlight: 1000, control: NEVER_STOP }, sink));
  }
  return { s, producers: prods, consumers: cons, acked, notAcked };
}

async function closeHarness(h: Harness): Promise<void> {
  for (const p of h.producers) await p.close();
  for (const c of h.consumers) await c.close();
  await h.s.close();
}

/** Sends seqs [0, n) as the harness does: stamped envelopes in batches of 128. */
async function produce(p: Producer, producerId: number, n: number): Promise<void> {
  const batch = 128;
  const template = encodeTemplate(SIZE, producerId);
  const staging = new Uint8Array(SIZE * batch);
  for (let i = 0; i < batch; i++) staging.set(template, i * SIZE);
  for (let seq = 0; seq < n; seq += batch) {
    const m = Math.min(batch, n - seq);
    for (let i = 0; i < m; i++) stamp(staging, i * SIZE, seq + i, 0, Date.now());
    const r = p.send({ bytes: staging.subarray(0, m * SIZE), size: SIZE, count: m, producerId, firstSeq: seq });
    if (r) await r;
    if (seq % (batch * 20) === 0) await new Promise((res) => setImmediate(res));
  }
  await p.flush(30_000);
}

/** Per consumer, what it received, until `total` distinct messages arrived (at most 60 s). */
async function consume(consumers: Consumer[], total: number): Promise<Got[][]> {
  const got: Got[][] = consumers.map(() => []);
  const seen = new Set<string>();
  const until = Date.now() + 60_000;
  await Promise.all(
    consumers.map(async (c, k) => {
      while (seen.size < total && Date.now() < until) {
        let b = c.receive(256, 50);
        if (b instanceof Promise) b = await b;
        for (let i = 0; i < b.count; i++) {
          const producer = readProducer(b.buffer(i), b.offset(i));
          const seq = readSeq(b.buffer(i), b.offset(i));
          got[k]!.push({ producer, seq, lane: b.lane ? b.lane(i) : 0 });
          seen.add(`${producer}:${seq}`);
        }
        const a = c.ack(b);
        if (a) await a;
      }
    }),
  );
  return got;
}

/** Messages the broker took in, per partition, from its own statistics. */
async function perPartitionIn(topic: string): Promise<number[]> {
  const raw = (await new PulsarAdmin(adminUrl).call('GET', `/admin/v2/persistent/${topic.slice('persistent://'.length)}/partitioned-stats?perPartition=true`)) as {
    partitions: Record<string, { msgInCounter: number }>;
  };
  return Object.entries(raw.partitions)
    .sort(([a], [b]) => Number(/(\d+)$/.exec(a)![1]) - Number(/(\d+)$/.exec(b)![1]))
    .map(([, s]) => s.msgInCounter);
}

/** Every (producer, seq) once, and ascending within each group `groupOf` names. */
function expectOnceAndInOrder(received: Got[][], producers: number, n: number, groupOf: (g: Got) => string): void {
  for (const list of received) {
    const last = new Map<string, number>();
    for (const g of list) {
      const key = `${g.producer}/${groupOf(g)}`;
      expect(g.seq, `order within ${key}`).toBeGreaterThan(last.get(key) ?? -1);
      last.set(key, g.seq);
    }
  }
  const all = received.flat();
  expect(all).toHaveLength(producers * n);
  expect(new Set(all.map((g) => `${g.producer}:${g.seq}`)).size).toBe(producers * n);
}

describe('pulsar keys and partition routing', () => {
  it('routes 2 producers over all 4 partitions round-robin per batch; in order per partition', async () => {
    const N = 20_000;
    const h = await openHarness(2, 2, { partitions: 4 });
    const [received] = await Promise.all([consume(h.consumers, 2 * N), produce(h.producers[0]!, 0, N), produce(h.producers[1]!, 1, N)]);
    expect(h.acked).toEqual([N, N]);
    expect(h.notAcked).toEqual([0, 0]);
    const perPartition = await perPartitionIn(h.s.config.topic as string);
    expect(perPartition).toHaveLength(4);
    // every partition took a real share (an even split is N/2 each), the broker's own count
    for (const n of perPartition) expect(n).toBeGreaterThan(N / 8);
    expect(perPartition.reduce((a, b) => a + b, 0)).toBe(2 * N);
    // each producer wrote to every partition, and its messages are in order within each
    for (const p of [0, 1]) expect(new Set(received.flat().filter((g) => g.producer === p).map((g) => g.lane))).toEqual(new Set([0, 1, 2, 3]));
    expectOnceAndInOrder(received, 2, N, (g) => String(g.lane));
    expect((await h.s.brokerCounts!()).stored).toBe(2 * N);
    await closeHarness(h);
  }, 120_000);

  it('key_shared with 2 consumers and round-robin keys: both get a large share, each key one consumer, in order', async () => {
    const N = 20_000;
    const keys: KeyPlan = { distribution: 'round-robin', space: 1000 };
    // deduplication on (the default): key batches hold scattered sequences, and must still all be stored
    const h = await openHarness(2, 2, { subscriptionType: 'key_shared' }, keys);
    expect(h.s.config.subscriptionType).toBe('Key_Shared');
    const [received] = await Promise.all([consume(h.consumers, 2 * N), produce(h.producers[0]!, 0, N), produce(h.producers[1]!, 1, N)]);
    expect(h.acked).toEqual([N, N]);
    const keyOf = (g: Got): string => keyText(keyIndex(keys, g.producer, g.seq));
    expectOnceAndInOrder(received, 2, N, keyOf);
    const shares = received.map((list) => list.length / (2 * N));
    for (const share of shares) expect(share).toBeGreaterThan(0.2);
    const keysAt = received.map((list) => new Set(list.map(keyOf)));
    expect([...keysAt[0]!].filter((k) => keysAt[1]!.has(k))).toEqual([]);
    expect(keysAt[0]!.size + keysAt[1]!.size).toBe(1000);
    const counts = await h.s.brokerCounts!();
    expect(counts.stored).toBe(2 * N);
    // one key per entry: round-robin over 1000 keys leaves few messages per key batch
    expect(counts.detail?.storedEntries).toBeGreaterThan((2 * N) / 100);
    await closeHarness(h);
  }, 120_000);

  it('with keys over 4 partitions sends each key to the partition its Murmur3 hash names', async () => {
    const N = 10_000;
    const keys: KeyPlan = { distribution: 'random', space: 200 };
    const h = await openHarness(1, 1, { partitions: 4 }, keys);
    const [received] = await Promise.all([consume(h.consumers, N), produce(h.producers[0]!, 0, N)]);
    expect(h.acked).toEqual([N]);
    for (const g of received[0]!) expect(g.lane).toBe(keyPartition(keyText(keyIndex(keys, 0, g.seq)), 4));
    expectOnceAndInOrder(received, 1, N, (g) => String(keyIndex(keys, 0, g.seq)));
    for (const n of await perPartitionIn(h.s.config.topic as string)) expect(n).toBeGreaterThan(N / 8);
    await closeHarness(h);
  }, 120_000);
});
