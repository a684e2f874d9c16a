/**
 * Transactions against a real Pulsar standalone (one broker for the file, started through
 * the harness's own deployment; BUSBENCH_PULSAR_URL + BUSBENCH_PULSAR_ADMIN attach to a
 * running one instead): what the broker counts for transactional acks of whole batches,
 * and where GET_LAST_MESSAGE_ID points once transaction markers end a topic.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pulsarDeployment, type PulsarDeployment } from '../../src/brokers/pulsar/deployment.ts';
import { PulsarAdmin } from '../../src/brokers/pulsar/admin.ts';
import { PulsarClient, TransactionCoordinator, type Consumer } from '../../src/adapters/pulsar/wire/index.ts';
import { readBack } from '../../src/adapters/pulsar/read-back.ts';

let broker: PulsarDeployment;
let dir: string | undefined;
let client: PulsarClient;
const NS = 'txn-wire/plain';
let run = 0;

beforeAll(async () => {
  const external = process.env.BUSBENCH_PULSAR_URL;
  if (external) broker = pulsarDeployment('external', { serviceUrl: external, adminUrl: process.env.BUSBENCH_PULSAR_ADMIN });
  else {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-pulsar-txn-'));
    broker = pulsarDeployment('native', { dir });
  }
  await broker.start();
  const admin = new PulsarAdmin(broker.adminUrl());
  await admin.createTenant('txn-wire', await admin.clusters());
  await admin.createNamespace(NS, { deduplication: false });
  client = new PulsarClient({ serviceUrl: broker.urls()[0]!, reconnectInitialMs: 50, reconnectMaxMs: 500 });
}, 180_000);

afterAll(async () => {
  await client?.close();
  await broker?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const topic = (name: string): string => `persistent://${NS}/${name}-${Date.now()}-${run++}`;

/** `entries` full entries of `perEntry` 16-byte messages. */
async function produce(t: string, entries: number, perEntry: number): Promise<void> {
  const p = await client.createProducer({ topic: t, batchMaxMessages: perEntry, batchMaxDelayMs: 50, maxPendingMessages: perEntry });
  const bytes = new Uint8Array(perEntry * 16);
  for (let e = 0; e < entries; e++) {
    p.sendMessages(bytes, 16, perEntry, p.nextSequenceId);
    expect(await p.flush(10_000)).toBe(true);
  }
  await p.close();
}

/** Receives whole entries and acknowledges each in a transaction, committed every 10 entries, until 3 s pass without a delivery. */
async function ackAllInTxns(consumer: Consumer, tc: TransactionCoordinator, t: string, subscription: string): Promise<number> {
  let received = 0;
  for (;;) {
    const txn = await tc.newTxn(60_000);
    await tc.addSubscriptions(txn, [{ topic: t, subscription }]);
    let got = 0;
    for (let i = 0; i < 10; i++) {
      let b = consumer.receiveBatch(1000, 3_000, true);
      if (b instanceof Promise) b = await b;
      if (b.count === 0) break;
      got += b.count;
      await consumer.ackBatchInTxn(b, txn);
    }
    await tc.commit(txn);
    received += got;
    if (got === 0) return received;
  }
}

describe('transactions on a real broker', () => {
  it('a Shared subscription acknowledging 1000-message entries in transactions keeps flowing past 60 entries (maxUnackedMessagesPerConsumer 50,000)', async () => {
    const t = topic('txn-shared');
    const subscription = 'fwd';
    const consumer = await client.subscribe({ topic: t, subscription, subType: 'Shared', initialPosition: 'earliest' });
    await produce(t, 70, 1000);
    const received = await ackAllInTxns(consumer, new TransactionCoordinator(client, 0), t, subscription);
    expect(received).toBe(70_000);
    await consumer.close();
  }, 180_000);

  it('read-back reaches the last entry when commit and abort markers end the topic (complete, committed messages only)', async () => {
    const t = topic('txn-markers');
    const tc = new TransactionCoordinator(client, 0);
    const p = await client.createProducer({ topic: t, txnEnabled: true, batchMaxDelayMs: 1 });
    for (const [n, end] of [
      [10, 'commit'],
      [5, 'abort'],
    ] as const) {
      const txn = await tc.newTxn(30_000);
      await tc.addPartitions(txn, [t]);
      p.sendMessages(new Uint8Array(n * 16), 16, n, p.nextSequenceId, txn);
      expect(await p.flush(10_000)).toBe(true);
      await (end === 'commit' ? tc.commit(txn) : tc.abort(txn));
    }
    await p.close();
    const back = await readBack(broker.urls()[0]!, [t], 'rb', 30_000, 3_000);
    expect(back.messages).toBe(10);
  }, 120_000);
});
