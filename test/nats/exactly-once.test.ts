/**
 * Nats-Msg-Id deduplication against a real nats-server: a re-sent (producer, sequence)
 * inside the duplicate window is dropped by the stream and still acknowledged, the id
 * names the message's origin producer (a pipeline stage forwards other producers'
 * messages), and the window outlives a kill -9 of the server.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { SystemSession } from '../../src/core/contract.ts';
import { adapter, type NatsWorkerInit } from '../../src/adapters/nats/index.ts';
import { closeConnection, connectNats } from '../../src/adapters/nats/connection.ts';
import type { FastPublisher, JsPublisher } from '../../src/adapters/nats/producer.ts';
import { liveBrokers } from '../../src/brokers/common/processes.ts';
import { batchOf, consume, createProducer, openNats, reconcile, removeTempDirs } from './helpers.ts';

let open: SystemSession<NatsWorkerInit> | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
  expect(liveBrokers()).toEqual([]);
});
afterAll(removeTempDirs);

const stored = async (session: SystemSession<NatsWorkerInit>): Promise<number | undefined> => (await session.brokerCounts!()).stored;

/** The Nats-Msg-Id of every message the stream holds, in stream order. */
async function storedIds(session: SystemSession<NatsWorkerInit>, stage = 0): Promise<string[]> {
  const init = session.workerInit as unknown as NatsWorkerInit;
  const nc = await connectNats(init.servers, 'test-reader');
  try {
    const jsm = await jetstreamManager(nc);
    const stream = init.stages[stage]!.stream;
    const { messages, first_seq } = (await jsm.streams.info(stream)).state;
    const ids: string[] = [];
    for (let seq = first_seq; seq < first_seq + messages; seq++) ids.push((await jsm.streams.getMessage(stream, { seq }))?.header.get('Nats-Msg-Id') ?? '');
    return ids;
  } finally {
    await closeConnection(nc);
  }
}

describe('exactly-once publishing: Nats-Msg-Id deduplication', { timeout: 60_000 }, () => {
  for (const publish of ['fast', 'js'] as const) {
    it(`drops re-sent sequences and acks them, also while the first send awaits its ack (publish: ${publish})`, async () => {
      const { session, opts } = await openNats({ msgId: 'on', publish }, `dedup_${publish}`);
      open = session;
      expect(adapter.capabilities(opts).deduplication).toBe(true);
      const { producer, ledger } = await createProducer(session, 0);
      const first = batchOf(0, 0, 200);
      ledger.sent = 200;
      // back to back: the re-send goes out before the first send's acks came back
      await producer.send(first);
      await producer.send(first);
      ledger.resent += 200;
      await producer.flush(20_000);
      // and once more after every ack arrived, as a retry after a lost ack would
      await producer.send(batchOf(0, 100, 100));
      ledger.resent += 100;
      await producer.flush(20_000);
      const duplicates = (producer as FastPublisher | JsPublisher).duplicates;
      await producer.close();

      expect(ledger.ackedSet.size).toBe(200);
      expect(ledger.failedSet.size + ledger.unknownSet.size).toBe(0);
      // each publish had its own answer: the re-sends were answered as duplicates, not acked again
      expect(ledger.doubleAcks).toBe(0);
      expect(ledger.duplicateSet.size).toBe(200);
      expect(duplicates).toBe(300);
      expect(await stored(session)).toBe(200);
      const got = await consume(session, 200);
      const v = reconcile([ledger.snapshot()], [got.snapshot()]);
      expect(v.counts).toMatchObject({ received: 200, duplicated: 0, lost: 0 });
      expect(v.problems).toEqual([]);
    });
  }

  it('stores a re-sent message again with msgId off', async () => {
    const { session, opts } = await openNats({}, 'nodedup2');
    open = session;
    expect(adapter.capabilities(opts).deduplication).toBe(false);
    const { producer, ledger } = await createProducer(session, 0);
    await producer.send(batchOf(0, 0, 150));
    await producer.send(batchOf(0, 0, 150));
    await producer.flush(20_000);
    const duplicates = (producer as FastPublisher).duplicates;
    await producer.close();
    expect(ledger.ackedSet.size).toBe(150);
    expect(duplicates).toBe(0);
    expect(await stored(session)).toBe(300);
  });

  it('names the origin producer in the id: a forwarder carries several origins, each deduplicated on its own', async () => {
    const { session } = await openNats({ msgId: 'on' }, 'origin');
    open = session;
    // a stage processor's producer: its own id (7) is not the messages' origin
    const { producer, ledger } = await createProducer(session, 7);
    // the same sequences from two origins are two messages ...
    await producer.send(batchOf(0, 0, 50));
    await producer.send(batchOf(1, 0, 50));
    // ... and origin 0's forwarded again (a forwarder retrying) is one of them
    await producer.send(batchOf(0, 0, 50));
    await producer.flush(20_000);
    await producer.close();
    expect(ledger.failedSet.size + ledger.unknownSet.size).toBe(0);
    const ids = await storedIds(session);
    expect(ids).toHaveLength(100);
    expect(ids.slice(0, 3)).toEqual(['0-0', '0-1', '0-2']);
    expect(ids.slice(50, 53)).toEqual(['1-0', '1-1', '1-2']);
    expect(ids.some((id) => id.startsWith('7-'))).toBe(false);
  });

  it('keeps the duplicate window across kill -9 and restart of the server', async () => {
    const { session } = await openNats({ msgId: 'on', storage: 'file' }, 'dedupkill');
    open = session;
    const before = await createProducer(session, 0);
    await before.producer.send(batchOf(0, 0, 300));
    await before.producer.flush(20_000);
    await before.producer.close();
    expect(before.ledger.ackedSet.size).toBe(300);
    await session.faults!.kill();
    await session.faults!.restart();
    const after = await createProducer(session, 0);
    await after.producer.send(batchOf(0, 0, 300));
    await after.producer.flush(20_000);
    const duplicates = (after.producer as FastPublisher).duplicates;
    await after.producer.close();
    expect(after.ledger.ackedSet.size).toBe(0);
    expect(after.ledger.duplicateSet.size).toBe(300);
    expect(duplicates).toBe(300);
    expect(await stored(session)).toBe(300);
  });
});
