/**
 * Stop, kill -9 and restart of the harness's own nats-server, through the adapter's
 * FaultInjector: what survives, what does not, and that clients find their way back.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { SystemSession } from '../../src/core/contract.ts';
import { adapter, type NatsWorkerInit } from '../../src/adapters/nats/index.ts';
import { workerSide } from '../../src/adapters/nats/worker.ts';
import { liveBrokers } from '../../src/brokers/common/processes.ts';
import { readProducer, readSeq } from '../../src/core/envelope.ts';
import { ConsumerLedger } from '../../src/checks/ledger.ts';
import { SIZE, consume, control, createProducer, openNats, publish, reconcile, removeTempDirs, sendAll, settledOnce } from './helpers.ts';

let open: SystemSession<NatsWorkerInit> | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
  expect(liveBrokers()).toEqual([]);
});
afterAll(removeTempDirs);

describe('NATS faults on the native server', () => {
  it('file storage keeps every acknowledged message across kill -9 and restart', async () => {
    // default sync_interval: kill -9 takes the process, not the page cache it wrote to
    const { session, opts } = await openNats({ storage: 'file' }, 'kill9');
    open = session;
    expect(adapter.capabilities(opts).durability).toBe('process-crash');
    expect(session.faults!.fault).toMatch(/kill -9 of nats-server/);
    const sent = await publish(session, 2000);
    expect(sent.ackedSet.size).toBe(2000);
    const pidsBefore = liveBrokers().map((b) => b.pid);
    await session.faults!.kill();
    expect(liveBrokers()).toEqual([]);
    await session.faults!.restart();
    // a new process on the same ports and store directory
    expect(liveBrokers().map((b) => b.pid)).not.toEqual(pidsBefore);
    expect((await session.brokerCounts!()).stored).toBe(2000);
    const got = await consume(session, 2000);
    const v = reconcile([sent.snapshot()], [got.snapshot()]);
    expect(v.counts).toMatchObject({ ackedLost: 0, received: 2000 });
  });

  it('file storage keeps them across a graceful stop and restart, with sync_interval always', async () => {
    // what the first consumer had prefetched but not acked comes back after ack_wait
    const { session } = await openNats({ storage: 'file', syncInterval: 'always', ackWait: '1s' }, 'stop');
    open = session;
    expect(session.config.broker).toMatchObject({ syncInterval: 'always', version: '2.15.2' });
    const sent = await publish(session, 1000);
    const got1 = await consume(session, 400);
    expect(got1.unique).toBeGreaterThanOrEqual(400);
    await session.faults!.restart(); // stop (SIGTERM) + start on the same data
    const counts = await session.brokerCounts!();
    expect(counts.stored).toBe(1000);
    // the durable consumer's acks survived too: a new consumer continues where it stopped
    const got2 = await consume(session, 1000 - got1.unique);
    const v = reconcile([sent.snapshot()], [got1.snapshot(), got2.snapshot()]);
    expect(v.counts).toMatchObject({ ackedLost: 0, received: 1000, duplicated: 0 });
  });

  it('memory storage loses acknowledged messages on kill -9, and the adapter says it is not durable', async () => {
    const { session, opts } = await openNats({ storage: 'memory' }, 'memory');
    open = session;
    expect(adapter.capabilities(opts).durability).toBe('none');
    const sent = await publish(session, 1000);
    expect(sent.ackedSet.size).toBe(1000);
    expect((await session.brokerCounts!()).stored).toBe(1000);
    await session.faults!.kill();
    await session.faults!.restart();
    // the stream itself lived only in memory: the cross-check reports it gone
    await expect(session.brokerCounts!()).rejects.toThrow(/stream not found/i);
  });

  it('closes cleanly while its broker is down (after kill -9, no restart)', async () => {
    const { session } = await openNats({}, 'deadclose');
    await publish(session, 100);
    await session.faults!.kill();
    await session.close();
    expect(liveBrokers()).toEqual([]);
  });

  it('a producer and a consumer ride through kill -9 and restart: every sequence settled once, every acked one delivered', async () => {
    const { session } = await openNats({ storage: 'file' }, 'reconnect');
    open = session;
    const { producer, ledger } = await createProducer(session);
    const received = new ConsumerLedger(0);
    const consumer = await workerSide.createConsumer(session.workerInit, { consumerId: 0, consumers: 1, producers: 1, messageSize: SIZE, control });
    let stop = false;
    const consuming = (async () => {
      while (!stop) {
        const b = await consumer.receive(256, 50);
        for (let i = 0; i < b.count; i++) received.record(readProducer(b.buffer(i), b.offset(i)), readSeq(b.buffer(i), b.offset(i)));
        await consumer.ack(b);
      }
    })();
    await sendAll(producer, ledger, 2000); // every ack in before the kill
    await session.faults!.kill();
    // The client sees the dead socket at once; give it that moment, so that nothing is
    // published into the dying connection (that would end unknown, not acked).
    await new Promise((r) => setTimeout(r, 300));
    // sending while the broker is down: send() waits for the reconnect
    const sending = sendAll(producer, ledger, 2000, 2000);
    await new Promise((r) => setTimeout(r, 300));
    await session.faults!.restart();
    await sending;
    await producer.close();
    expect(ledger.sent).toBe(4000);
    expect(settledOnce(ledger)).toBe(true);
    expect(ledger.ackedSet.size).toBe(4000);
    expect(ledger.unknownSet.size + ledger.failedSet.size).toBe(0);
    const deadline = Date.now() + 20_000;
    while (received.unique < ledger.ackedSet.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    stop = true;
    await consuming;
    await consumer.close();
    const v = reconcile([ledger.snapshot()], [received.snapshot()]);
    // acks the kill took with it bring redeliveries: duplicates are allowed, gaps are not
    expect(received.unique).toBe(4000);
    expect(v.counts).toMatchObject({ ackedLost: 0, lost: 0 });
    expect((await session.brokerCounts!()).stored).toBe(4000);
  });
});
