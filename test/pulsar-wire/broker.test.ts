/**
 * The wire client against a real Pulsar standalone: one broker for the file, started in
 * beforeAll through the harness's own deployment (native) and stopped in afterAll.
 * BUSBENCH_PULSAR_URL (+ BUSBENCH_PULSAR_ADMIN) attach to a running broker instead, for
 * quick iterations; the kill -9 test is skipped then (it is not ours to kill).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pulsarDeployment, type PulsarDeployment } from '../../src/brokers/pulsar/deployment.ts';
import { PulsarAdmin } from '../../src/brokers/pulsar/admin.ts';
import { PulsarClient, PulsarError, TransactionCoordinator, isDuplicateId, type Consumer, type MessageId } from '../../src/adapters/pulsar/wire/index.ts';

let broker: PulsarDeployment;
let dir: string | undefined;
let admin: PulsarAdmin;
let serviceUrl: string;
const clients: PulsarClient[] = [];
const logs: string[] = [];
const TENANT = 'wire';
let run = 0;

const external = process.env.BUSBENCH_PULSAR_URL;

beforeAll(async () => {
  if (external) {
    broker = pulsarDeployment('external', { serviceUrl: external, adminUrl: process.env.BUSBENCH_PULSAR_ADMIN });
  } else {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-pulsar-wire-'));
    broker = pulsarDeployment('native', { dir });
  }
  await broker.start();
  serviceUrl = broker.urls()[0]!;
  admin = new PulsarAdmin(broker.adminUrl());
  await admin.createTenant(TENANT, await admin.clusters());
  await admin.createNamespace(`${TENANT}/plain`, { deduplication: false });
  await admin.createNamespace(`${TENANT}/dedup`, { deduplication: true });
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await broker?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function newClient(opts: { keepAliveIntervalMs?: number } = {}): PulsarClient {
  const c = new PulsarClient({ serviceUrl, reconnectInitialMs: 50, reconnectMaxMs: 500, log: (l) => logs.push(l), ...opts });
  clients.push(c);
  return c;
}

const topic = (ns: 'plain' | 'dedup', name: string): string => `persistent://${TENANT}/${ns}/${name}-${Date.now()}-${run++}`;

/** 8-byte payload: the sequence number, then filler up to `size`. */
function payloads(first: number, count: number, size = 64): Uint8Array {
  const b = new Uint8Array(count * size);
  const v = new DataView(b.buffer);
  for (let i = 0; i < count; i++) {
    v.setFloat64(i * size, first + i);
    b.fill((first + i) & 0xff, i * size + 8, (i + 1) * size);
  }
  return b;
}

interface Drained {
  seqs: number[];
  ids: MessageId[];
  redeliveries: number[];
}

/** Receives until `n` distinct sequence numbers arrived (or `ms` passed), acking each batch. */
async function drain(c: Consumer, n: number, ms = 30_000, ack = true, size = 64): Promise<Drained> {
  const out: Drained = { seqs: [], ids: [], redeliveries: [] };
  const seen = new Set<number>();
  const until = Date.now() + ms;
  while (seen.size < n && Date.now() < until) {
    let b = c.receiveBatch(500, 200);
    if (b instanceof Promise) b = await b;
    for (let i = 0; i < b.count; i++) {
      expect(b.length(i)).toBe(size);
      const seq = new DataView(b.buffer(i).buffer, b.buffer(i).byteOffset + b.offset(i), 8).getFloat64(0);
      const last = b.buffer(i)[b.offset(i) + size - 1];
      expect(last).toBe(seq & 0xff);
      out.seqs.push(seq);
      out.ids.push(b.messageId(i));
      out.redeliveries.push(b.redeliveryCount(i));
      seen.add(seq);
    }
    if (ack) c.ackBatch(b);
  }
  return out;
}

const range = (first: number, n: number): number[] => Array.from({ length: n }, (_, i) => first + i);

/**
 * Every message the topic holds, read from the start by a non-durable subscription until
 * nothing more comes for `quietMs`. (The broker's msgInCounter counts duplicates dropped
 * by deduplication, and msgBacklog counts entries, not messages; this counts what is
 * stored.)
 */
async function readBack(t: string, quietMs = 1_000): Promise<number[]> {
  const c = newClient();
  const reader = await c.subscribe({ topic: t, subscription: `read-back-${run++}`, durable: false, initialPosition: 'earliest' });
  const seqs: number[] = [];
  for (;;) {
    let b = reader.receiveBatch(1000, quietMs);
    if (b instanceof Promise) b = await b;
    if (b.count === 0) break;
    for (let i = 0; i < b.count; i++) seqs.push(new DataView(b.buffer(i).buffer, b.buffer(i).byteOffset + b.offset(i), 8).getFloat64(0));
    reader.ackBatch(b);
  }
  await reader.close();
  return seqs;
}

describe('pulsar wire client against a real broker', () => {
  it('connects: CONNECTED with the broker version and its max message size', async () => {
    const c = newClient();
    const conn = await c.connection({ logical: serviceUrl, physical: serviceUrl });
    expect(conn.serverVersion).toMatch(/Pulsar/i);
    expect(conn.protocolVersion).toBeGreaterThanOrEqual(19);
    expect(conn.maxMessageSize).toBe(5 * 1024 * 1024);
    expect(await c.lookup('persistent://public/default/x')).toEqual({ logical: serviceUrl, physical: serviceUrl });
  });

  it('publishes batches (1000 msgs / 10 ms) and consumes each message once, in order', async () => {
    const t = topic('plain', 'batched');
    const c = newClient();
    const consumer = await c.subscribe({ topic: t, subscription: 's', initialPosition: 'earliest' });
    const acked: [number, number][] = [];
    const p = await c.createProducer({
      topic: t,
      producerName: 'batched-p',
      batchMaxMessages: 1000,
      batchMaxDelayMs: 10,
      maxPendingMessages: 5000,
      onEntry: (seq, count, err) => {
        if (err) throw err;
        acked.push([seq, count]);
      },
    });
    const N = 10_000;
    for (let s = 0; s < N; s += 250) {
      await p.waitForRoom();
      p.sendMessages(payloads(s, 250), 64, 250, s);
    }
    expect(await p.flush(30_000)).toBe(true);
    expect(acked.reduce((n, [, k]) => n + k, 0)).toBe(N);
    expect(acked.every(([, k]) => k <= 1000)).toBe(true);

    const got = await drain(consumer, N);
    expect(got.seqs).toEqual(range(0, N));
    for (let i = 1; i < got.ids.length; i++) {
      const [a, b] = [got.ids[i - 1]!, got.ids[i]!];
      expect(a.ledgerId < b.ledgerId || (a.ledgerId === b.ledgerId && (a.entryId < b.entryId || (a.entryId === b.entryId && a.batchIndex < b.batchIndex)))).toBe(true);
    }
    expect(got.ids[0]!.batchIndex).toBe(0);
    expect(consumer.stats.entriesReceived).toBeLessThan(N / 5);
    await p.close();
    const stats = await admin.topicStats(t);
    expect(stats.msgInCounter).toBe(N);
    expect(stats.subscriptions.s?.msgBacklog).toBe(0);
  });

  it('publishes non-batched messages with their sequence ids and publish time', async () => {
    const t = topic('plain', 'single');
    const c = newClient();
    const consumer = await c.subscribe({ topic: t, subscription: 's', initialPosition: 'earliest' });
    const p = await c.createProducer({ topic: t, batching: false });
    const before = Date.now();
    const ids = await Promise.all(range(0, 50).map((i) => p.send(payloads(i, 1), { sequenceId: 100 + i })));
    expect(ids.every((id) => id.batchIndex === -1)).toBe(true);
    expect(new Set(ids.map((id) => id.entryId)).size).toBe(50);
    for (let i = 0; i < 50; i++) {
      const m = await consumer.receive(5_000);
      expect(m).not.toBeNull();
      expect(m!.sequenceId).toBe(100 + i);
      expect(m!.publishTime).toBeGreaterThanOrEqual(before - 1000);
      expect(m!.producerName).toBe(p.name);
      expect(m!.id).toEqual(ids[i]);
      consumer.acknowledge(m!);
    }
    expect(p.name).toMatch(/^standalone-/); // the broker picked it
  });

  it('splits batches by size (batchMaxBytes) and still delivers everything', async () => {
    const t = topic('plain', 'bytes');
    const c = newClient();
    const consumer = await c.subscribe({ topic: t, subscription: 's', initialPosition: 'earliest' });
    const p = await c.createProducer({ topic: t, batchMaxBytes: 4096, batchMaxDelayMs: 50, maxPendingMessages: 10_000 });
    p.sendMessages(payloads(0, 1000, 512), 512, 1000, 0);
    expect(await p.flush(10_000)).toBe(true);
    const got = await drain(consumer, 1000, 30_000, true, 512);
    expect(got.seqs).toEqual(range(0, 1000));
    // 4096 bytes hold 7 messages of 512 + 9 bytes of framing each
    expect(consumer.stats.entriesReceived).toBe(Math.ceil(1000 / 7));
  });

  it('with deduplication, a re-created producer learns its last sequence id and resends are dropped', async () => {
    const t = topic('dedup', 'dedup');
    const c = newClient();
    const consumer = await c.subscribe({ topic: t, subscription: 's', initialPosition: 'earliest' });
    const first = await c.createProducer({ topic: t, producerName: 'dedup-p', batchMaxDelayMs: 5 });
    expect(first.lastSequenceIdAtConnect).toBe(-1);
    await Promise.all(range(0, 10).map((i) => first.send(payloads(i, 1), { sequenceId: i })));
    await first.close();

    const second = await c.createProducer({ topic: t, producerName: 'dedup-p', batching: false });
    expect(second.lastSequenceIdAtConnect).toBe(9);
    expect(second.nextSequenceId).toBe(10);
    const ids = await Promise.all(range(5, 10).map((i) => second.send(payloads(i, 1), { sequenceId: i })));
    expect(ids.slice(0, 5).every(isDuplicateId)).toBe(true);
    expect(ids.slice(5).some(isDuplicateId)).toBe(false);

    const got = await drain(consumer, 15, 10_000);
    expect(got.seqs).toEqual(range(0, 15));
    expect(await readBack(t)).toEqual(range(0, 15));
    // the broker's own counter includes the 5 it dropped
    expect((await admin.topicStats(t)).msgInCounter).toBe(20);
  });

  it('survives dropped connections: producer resends, consumer resubscribes, nothing lost or duplicated (dedup)', async () => {
    const t = topic('dedup', 'drops');
    const pc = newClient();
    const cc = newClient();
    const consumer = await cc.subscribe({ topic: t, subscription: 's', initialPosition: 'earliest', receiverQueueSize: 500 });
    const p = await pc.createProducer({ topic: t, producerName: 'drops-p', batchMaxMessages: 200, batchMaxDelayMs: 2, maxPendingMessages: 2000 });
    const N = 20_000;
    let acked = 0;
    const sending = (async () => {
      for (let s = 0; s < N; s += 100) {
        await p.waitForRoom();
        await new Promise<void>((r) => {
          p.sendAsync(payloads(s, 1), () => undefined, { sequenceId: s }); // one message with a callback...
          p.sendMessages(payloads(s + 1, 99), 64, 99, s + 1); // ...and 99 without
          r();
        });
        if (s % 2000 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      await p.flush(60_000);
    })();
    const receiving = drain(consumer, N, 60_000);
    for (let k = 0; k < 3; k++) {
      await new Promise((r) => setTimeout(r, 150));
      for (const conn of await pc.connections()) conn.destroy(new Error('test: producer connection cut'));
      await new Promise((r) => setTimeout(r, 100));
      for (const conn of await cc.connections()) conn.destroy(new Error('test: consumer connection cut'));
    }
    await sending;
    const got = await receiving;
    acked = p.stats.messagesAcked;
    expect(acked).toBe(N);
    expect(p.stats.reconnects).toBeGreaterThanOrEqual(1);
    expect(consumer.stats.reconnects).toBeGreaterThanOrEqual(1);
    expect(new Set(got.seqs).size).toBe(N); // nothing lost
    expect(await readBack(t)).toEqual(range(0, N)); // stored once each, in order
    // Each producer's messages stay in order for the consumer, apart from redeliveries after a cut.
    const firstSeen = got.seqs.filter((s, i) => got.seqs.indexOf(s) === i);
    expect(firstSeen).toEqual(range(0, N));
  });

  it('shares a Shared subscription between two consumers without overlap', async () => {
    const t = topic('plain', 'shared');
    const c = newClient();
    const [a, b] = await Promise.all([0, 1].map((i) => c.subscribe({ topic: t, subscription: 's', subType: 'Shared', consumerName: `c${i}`, initialPosition: 'earliest', receiverQueueSize: 100 })));
    const p = await c.createProducer({ topic: t, batchMaxMessages: 10, batchMaxDelayMs: 1, maxPendingMessages: 5000 });
    p.sendMessages(payloads(0, 2000), 64, 2000, 0);
    await p.flush(10_000);
    const [ga, gb] = await Promise.all([drain(a!, 2000, 3_000), drain(b!, 2000, 3_000)]);
    expect(ga.seqs.length).toBeGreaterThan(0);
    expect(gb.seqs.length).toBeGreaterThan(0);
    expect([...ga.seqs, ...gb.seqs].sort((x, y) => x - y)).toEqual(range(0, 2000));
  });

  it('subscribes as Failover and Key_Shared', async () => {
    const t = topic('plain', 'types');
    const c = newClient();
    const fo = await c.subscribe({ topic: t, subscription: 'fo', subType: 'Failover', initialPosition: 'earliest' });
    const ks = await c.subscribe({ topic: t, subscription: 'ks', subType: 'Key_Shared', initialPosition: 'earliest' });
    const p = await c.createProducer({ topic: t });
    p.sendMessages(payloads(0, 100), 64, 100, 0);
    await p.flush(10_000);
    expect((await drain(fo, 100, 10_000)).seqs).toEqual(range(0, 100));
    expect((await drain(ks, 100, 10_000)).seqs).toEqual(range(0, 100));
    expect(fo.active).toBe(true);
  });

  it('acknowledges cumulatively: nothing is redelivered to the next consumer', async () => {
    const t = topic('plain', 'cumulative');
    const c = newClient();
    const first = await c.subscribe({ topic: t, subscription: 's', initialPosition: 'earliest' });
    const p = await c.createProducer({ topic: t, batchMaxMessages: 100 });
    p.sendMessages(payloads(0, 1000), 64, 1000, 0);
    await p.flush(10_000);
    let n = 0;
    while (n < 1000) {
      let b = first.receiveBatch(333, 5_000);
      if (b instanceof Promise) b = await b;
      n += b.count;
      first.ackBatch(b, true);
    }
    expect(first.stats.ackCommands).toBeLessThan(10);
    await first.close();
    const again = await c.subscribe({ topic: t, subscription: 's' });
    const b = await again.receiveBatch(10, 500);
    expect(b.count).toBe(0);
    await again.close();
    expect((await admin.topicStats(t)).subscriptions.s?.msgBacklog).toBe(0);
  });

  it('redelivers unacknowledged messages on request (Exclusive: all of them, in order)', async () => {
    const t = topic('plain', 'redeliver');
    const c = newClient();
    const consumer = await c.subscribe({ topic: t, subscription: 's', initialPosition: 'earliest' });
    const p = await c.createProducer({ topic: t });
    p.sendMessages(payloads(0, 10), 64, 10, 0);
    await p.flush(10_000);
    const firstTime = await drain(consumer, 10, 10_000, false);
    expect(firstTime.seqs).toEqual(range(0, 10));
    consumer.redeliverUnacknowledged();
    const secondTime = await drain(consumer, 10, 10_000, true);
    expect(secondTime.seqs).toEqual(range(0, 10));
    expect(await consumer.receiveBatch(10, 300)).toMatchObject({ count: 0 });
  });

  it('redelivers chosen entries to a Shared consumer, counting redeliveries', async () => {
    // The broker tracks redelivery counts for Shared and Key_Shared subscriptions only.
    const t = topic('plain', 'redeliver-shared');
    const c = newClient();
    const consumer = await c.subscribe({ topic: t, subscription: 's', subType: 'Shared', initialPosition: 'earliest' });
    const p = await c.createProducer({ topic: t, batching: false });
    p.sendMessages(payloads(0, 10), 64, 10, 0);
    await p.flush(10_000);
    const firstTime = await drain(consumer, 10, 10_000, false);
    expect(firstTime.redeliveries.every((r) => r === 0)).toBe(true);
    consumer.redeliver(firstTime.ids.slice(0, 3));
    const secondTime = await drain(consumer, 3, 10_000, true);
    expect(secondTime.seqs).toEqual([0, 1, 2]);
    expect(secondTime.redeliveries).toEqual([1, 1, 1]);
  });

  it('surfaces broker errors as PulsarErrors with the ServerError name', async () => {
    const t = topic('plain', 'errors');
    const c = newClient();
    await c.subscribe({ topic: t, subscription: 'excl', subType: 'Exclusive' });
    const busy = await c.subscribe({ topic: t, subscription: 'excl', subType: 'Exclusive' }).catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(PulsarError);
    expect(busy).toMatchObject({ serverError: 'ConsumerBusy', kind: 'server', code: 'ADAPTER' });

    await c.createProducer({ topic: t, producerName: 'same' });
    const dup = await c.createProducer({ topic: t, producerName: 'same' }).catch((e: unknown) => e);
    expect(dup).toMatchObject({ serverError: 'ProducerBusy' });

    const nowhere = await c.createProducer({ topic: 'persistent://no-such-tenant/ns/t' }).catch((e: unknown) => e);
    expect(nowhere).toBeInstanceOf(PulsarError);
    expect((nowhere as PulsarError).serverError).toMatch(/TopicNotFound|MetadataError|AuthorizationError|ServiceNotReady/);
  });

  describe('transactions', () => {
    it('produces in a transaction: nothing visible before the commit, an aborted one never', async () => {
      const c = newClient();
      const t = topic('plain', 'txn-produce');
      const consumer = await c.subscribe({ topic: t, subscription: 'txn', initialPosition: 'earliest' });
      const tc = new TransactionCoordinator(c, 0);
      const p = await c.createProducer({ topic: t, txnEnabled: true, batching: false });
      const inTxn = async (first: number, n: number, end: 'commit' | 'abort'): Promise<void> => {
        const txn = await tc.newTxn(30_000);
        await tc.addPartitions(txn, [t]);
        p.sendMessages(payloads(first, n), 64, n, p.nextSequenceId, txn);
        expect(await p.flush(10_000)).toBe(true);
        // stored, and still invisible
        expect((await drain(consumer, 1, 1_000)).seqs).toEqual([]);
        await (end === 'commit' ? tc.commit(txn) : tc.abort(txn));
      };
      await inTxn(0, 5, 'commit');
      expect((await drain(consumer, 5)).seqs).toEqual(range(0, 5));
      await inTxn(5, 5, 'abort');
      await inTxn(10, 2, 'commit');
      expect((await drain(consumer, 2)).seqs).toEqual([10, 11]);
      expect((await drain(consumer, 1, 1_000)).seqs).toEqual([]);
      // an ended transaction cannot be ended again
      const txn = await tc.newTxn(30_000);
      await tc.commit(txn);
      await expect(tc.commit(txn)).rejects.toBeInstanceOf(PulsarError);
    });

    it('acknowledges in a transaction: the acknowledgement counts only once committed', async () => {
      const c = newClient();
      const t = topic('plain', 'txn-ack');
      const sub = { topic: t, subscription: 'txn-ack', initialPosition: 'earliest' as const };
      const first = await c.subscribe(sub);
      const p = await c.createProducer({ topic: t, batchMaxMessages: 4 });
      p.sendMessages(payloads(0, 10), 64, 10, 0);
      expect(await p.flush(10_000)).toBe(true);
      const tc = new TransactionCoordinator(c, 0);
      // Acknowledge everything in a transaction, abort, and the next consumer gets it all again.
      const ackAll = async (consumer: Consumer, end: 'commit' | 'abort'): Promise<number[]> => {
        const seqs: number[] = [];
        const txn = await tc.newTxn(30_000);
        await tc.addSubscriptions(txn, [{ topic: t, subscription: sub.subscription }]);
        while (seqs.length < 10) {
          let b = consumer.receiveBatch(3, 5_000, true);
          if (b instanceof Promise) b = await b;
          if (b.count === 0) break;
          // whole entries of 4, 4 and 2 messages, whatever the asked 3
          expect([2, 4, 8]).toContain(b.count);
          for (let i = 0; i < b.count; i++) seqs.push(new DataView(b.buffer(i).buffer, b.buffer(i).byteOffset + b.offset(i), 8).getFloat64(0));
          await consumer.ackBatchInTxn(b, txn);
        }
        await (end === 'commit' ? tc.commit(txn) : tc.abort(txn));
        await consumer.close();
        return seqs;
      };
      expect(await ackAll(first, 'abort')).toEqual(range(0, 10));
      expect(await ackAll(await c.subscribe(sub), 'commit')).toEqual(range(0, 10));
      const after = await c.subscribe(sub);
      expect((await drain(after, 1, 1_500)).seqs).toEqual([]);
    });

    it('refuses to acknowledge part of an entry in a transaction', async () => {
      const c = newClient();
      const t = topic('plain', 'txn-split');
      const consumer = await c.subscribe({ topic: t, subscription: 'split', initialPosition: 'earliest' });
      const p = await c.createProducer({ topic: t, batchMaxMessages: 10 });
      p.sendMessages(payloads(0, 10), 64, 10, 0);
      expect(await p.flush(10_000)).toBe(true);
      let b = consumer.receiveBatch(3, 5_000);
      if (b instanceof Promise) b = await b;
      expect(b.count).toBe(3);
      await expect(consumer.ackBatchInTxn(b, { mostBits: 0, leastBits: 0 })).rejects.toThrow(/split across batches/);
    });
  });

  // Skipped visibly, never passed by returning: an attached broker is not ours to kill.
  it.skipIf(Boolean(external))(`rides through kill -9 and restart of the broker: all messages stored once (dedup)${external ? ' (SKIPPED: BUSBENCH_PULSAR_URL attaches to an external broker)' : ''}`, async () => {
    expect(broker.mode).toBe('native');
    const t = topic('dedup', 'kill');
    const pc = newClient();
    const cc = newClient();
    const consumer = await cc.subscribe({ topic: t, subscription: 's', initialPosition: 'earliest' });
    const p = await pc.createProducer({ topic: t, producerName: 'kill-p', batchMaxMessages: 100, batchMaxDelayMs: 5, maxPendingMessages: 20_000, sendTimeoutMs: 300_000 });
    p.sendMessages(payloads(0, 5000), 64, 5000, 0);
    await p.flush(30_000);
    await broker.kill();
    p.sendMessages(payloads(5000, 5000), 64, 5000, 5000); // queued while the broker is down
    await broker.restart();
    expect(await p.flush(120_000)).toBe(true);
    expect(p.stats.messagesAcked).toBe(10_000);
    const got = await drain(consumer, 10_000, 120_000);
    expect(new Set(got.seqs).size).toBe(10_000);
    expect(got.seqs.filter((s, i) => got.seqs.indexOf(s) === i)).toEqual(range(0, 10_000));
    const stats = await admin.topicStats(t);
    expect(stats.subscriptions.s?.msgBacklog).toBe(0);
  }, 300_000);
});
