import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { SystemSession } from '../../src/core/contract.ts';
import { adapter, type NatsWorkerInit } from '../../src/adapters/nats/index.ts';
import { FastPublisher } from '../../src/adapters/nats/producer.ts';
import { workerSide } from '../../src/adapters/nats/worker.ts';
import { liveBrokers } from '../../src/brokers/common/processes.ts';
import { NativeNats } from '../../src/brokers/nats/native.ts';
import { readProducer, readSeq } from '../../src/core/envelope.ts';
import { ConsumerLedger } from '../../src/checks/ledger.ts';
import { SIZE, consume, eventually, control, createProducer, openNats, publish, reconcile, removeTempDirs, sendAll, settledOnce, tempDir } from './helpers.ts';

let open: SystemSession<NatsWorkerInit> | undefined;
let server: NativeNats | undefined;
afterEach(async () => {
  await open?.close();
  await server?.stop();
  open = undefined;
  server = undefined;
  expect(liveBrokers()).toEqual([]);
});
afterAll(removeTempDirs);

describe('NATS JetStream adapter against a real nats-server', () => {
  it('publishes with acks, consumes with explicit acks, and agrees with stream and consumer info', async () => {
    const { session } = await openNats({ storage: 'file' }, 'basic');
    open = session;
    expect(session.config).toMatchObject({ serverVersion: '2.15.2', storage: 'file', stream: 'busbench_basic', subject: 'busbench.basic.orders' });
    const sent = await publish(session, 3000);
    expect(settledOnce(sent)).toBe(true);
    const got = await consume(session, 3000);
    const v = reconcile([sent.snapshot()], [got.snapshot()]);
    expect(v.problems).toEqual([]);
    expect(v.counts).toMatchObject({ sent: 3000, acked: 3000, received: 3000, lost: 0, duplicated: 0, outOfOrder: 0 });
    const counts = await session.brokerCounts!();
    expect(counts).toMatchObject({ stored: 3000, delivered: 3000, detail: { firstSeq: 1, lastSeq: 3000, pending: 0 } });
    // the consumer flushed its acks before closing; the server applies them in its own time
    const settled = await eventually(async () => (await session.brokerCounts!()).detail, (d) => d?.ackPending === 0);
    expect(settled).toMatchObject({ ackFloor: 3000, ackPending: 0 });
  });

  it('shares one durable consumer among several consumers, each message to one of them', async () => {
    const { session } = await openNats({}, 'shared');
    open = session;
    const sent = await Promise.all([publish(session, 1500, 0), publish(session, 1500, 1)]);
    const ledgers = [new ConsumerLedger(0), new ConsumerLedger(1)];
    const consumers = await Promise.all(ledgers.map((_, i) => workerSide.createConsumer(session.workerInit, { consumerId: i, consumers: 2, producers: 2, messageSize: SIZE, control })));
    const deadline = Date.now() + 20_000;
    const total = (): number => ledgers.reduce((s, l) => s + l.unique, 0);
    while (total() < 3000 && Date.now() < deadline) {
      await Promise.all(
        consumers.map(async (c, i) => {
          const b = await c.receive(100, 50);
          for (let k = 0; k < b.count; k++) ledgers[i]!.record(readProducer(b.buffer(k), b.offset(k)), readSeq(b.buffer(k), b.offset(k)));
          await c.ack(b);
        }),
      );
    }
    await Promise.all(consumers.map((c) => c.close()));
    const v = reconcile(sent.map((s) => s.snapshot()), ledgers.map((l) => l.snapshot()));
    expect(v.counts).toMatchObject({ acked: 3000, received: 3000, lost: 0, duplicated: 0 });
    expect(ledgers.every((l) => l.unique > 0)).toBe(true);
  });

  it('publishes through js.publish() too (publish: js)', async () => {
    const { session } = await openNats({ publish: 'js' }, 'jspub');
    open = session;
    const sent = await publish(session, 1000);
    expect(sent.ackedSet.size).toBe(1000);
    expect(settledOnce(sent)).toBe(true);
    expect((await session.brokerCounts!()).stored).toBe(1000);
  });

  it('with msgId on, the stream drops a re-sent (producer, sequence)', async () => {
    const { session, opts } = await openNats({ msgId: 'on' }, 'dedup');
    open = session;
    expect(adapter.capabilities(opts).deduplication).toBe(true);
    const first = await publish(session, 500);
    // the same producer id and sequences again, as a producer retrying after a crash would
    const again = await publish(session, 500);
    expect(first.ackedSet.size).toBe(500);
    // PubAck duplicate: true is its own answer: the stream has them from the first send, stored nothing now
    expect(again.ackedSet.size).toBe(0);
    expect(again.duplicateSet.size).toBe(500);
    expect((await session.brokerCounts!()).stored).toBe(500);
  });

  it('without msgId a re-sent message is stored twice', async () => {
    const { session } = await openNats({}, 'nodedup');
    open = session;
    await publish(session, 200);
    await publish(session, 200);
    expect((await session.brokerCounts!()).stored).toBe(400);
  });

  it('answers 429 (stream ingest queue full) by sending again, not by failing', async () => {
    // a tiny ingest queue: the server replies 429 Too Many Requests to most of a burst
    server = new NativeNats({ dir: tempDir(), maxBufferedMsgs: 10 });
    await server.start();
    const { session } = await openNats({}, 'backpressure', { brokers: 'external', externalUrls: { nats: server.urls()[0]! } });
    open = session;
    const { producer, ledger } = await createProducer(session, 0, 1000);
    expect(producer).toBeInstanceOf(FastPublisher);
    await sendAll(producer, ledger, 5000);
    const retries = (producer as FastPublisher).backpressureRetries;
    await producer.close();
    expect(retries).toBeGreaterThan(0);
    expect(ledger.failedSet.size).toBe(0);
    expect(ledger.ackedSet.size).toBe(5000);
    expect((await session.brokerCounts!()).stored).toBe(5000);
  });

  it('bounds the in-flight window itself: send() waits while maxInFlight acks are outstanding', async () => {
    const { session } = await openNats({}, 'window');
    open = session;
    const { producer, ledger } = await createProducer(session, 0, 50);
    let maxPending = 0;
    const pending = (producer as FastPublisher & { pending: Map<number, unknown> }).pending;
    const probe = setInterval(() => (maxPending = Math.max(maxPending, pending.size)), 0);
    await sendAll(producer, ledger, 2000);
    clearInterval(probe);
    await producer.close();
    expect(maxPending).toBeGreaterThan(0);
    expect(maxPending).toBeLessThanOrEqual(50);
    expect(ledger.ackedSet.size).toBe(2000);
  });

  it('ackPolicy none: delivered once, nothing to acknowledge', async () => {
    const { session } = await openNats({ ackPolicy: 'none' }, 'noack');
    open = session;
    const sent = await publish(session, 1000);
    const got = await consume(session, 1000);
    expect(reconcile([sent.snapshot()], [got.snapshot()]).counts).toMatchObject({ received: 1000, lost: 0 });
    expect((await session.brokerCounts!()).detail?.ackPending).toBe(0);
  });

  it('ackPolicy all: one ack per batch settles the whole batch at the server', async () => {
    const { session } = await openNats({ ackPolicy: 'all' }, 'ackall');
    open = session;
    const sent = await publish(session, 2000);
    const got = await consume(session, 2000);
    expect(reconcile([sent.snapshot()], [got.snapshot()]).counts).toMatchObject({ received: 2000, lost: 0, duplicated: 0 });
    const d = await eventually(async () => (await session.brokerCounts!()).detail, (x) => x?.ackPending === 0);
    expect(d).toMatchObject({ ackFloor: 2000, ackPending: 0 });
  });

  it('refuses ackPolicy all when several consumers share the durable', async () => {
    const opts = adapter.parseOptions({ ackPolicy: 'all' }, 'x');
    await expect(
      adapter.open({ runId: 'x', runDir: tempDir(), producers: 1, consumers: 2, messageSize: SIZE, maxInFlight: 10, brokers: 'native', externalUrls: {}, options: opts, log: () => undefined }),
    ).rejects.toThrow(/nats.ackPolicy "all" with 2 consumers/);
  });

  it('core NATS mode: plain pub/sub, no stream, promises nothing', async () => {
    const { session, opts } = await openNats({ mode: 'core' }, 'core');
    open = session;
    expect(adapter.capabilities(opts)).toMatchObject({ durability: 'none', acks: false });
    expect((session.workerInit as unknown as NatsWorkerInit).options.mode).toBe('core');
    const ledger = new ConsumerLedger(0);
    const consumer = await workerSide.createConsumer(session.workerInit, { consumerId: 0, consumers: 1, producers: 1, messageSize: SIZE, control });
    const sent = await publish(session, 1000);
    const deadline = Date.now() + 10_000;
    while (ledger.unique < 1000 && Date.now() < deadline) {
      const b = await consumer.receive(256, 100);
      for (let i = 0; i < b.count; i++) ledger.record(readProducer(b.buffer(i), b.offset(i)), readSeq(b.buffer(i), b.offset(i)));
    }
    await consumer.close();
    expect(reconcile([sent.snapshot()], [ledger.snapshot()]).counts).toMatchObject({ received: 1000, lost: 0 });
    expect(await session.brokerCounts!()).toEqual({ source: 'core NATS keeps no counts' });
  });

  it('deletes the stream on close and stops the server it started', async () => {
    const { session } = await openNats({}, 'cleanup');
    const pids = liveBrokers().map((b) => b.pid);
    expect(pids).toHaveLength(1);
    await session.close();
    await session.close(); // idempotent
    expect(liveBrokers()).toEqual([]);
  });

  it('external brokers: attaches to the given server, and refuses fault injection clearly', async () => {
    server = new NativeNats({ dir: tempDir() });
    await server.start();
    const { session } = await openNats({}, 'external', { brokers: 'external', externalUrls: { nats: server.urls()[0]! } });
    open = session;
    expect(session.config.broker).toMatchObject({ mode: 'external', urls: server.urls() });
    await expect(session.faults!.kill()).rejects.toThrow(/fault injection needs brokers the harness controls; --brokers external refuses/);
    await expect(session.faults!.restart()).rejects.toThrow(/--brokers external/);
    expect((await publish(session, 100)).ackedSet.size).toBe(100);
    await session.close();
    open = undefined;
    // closing an external session leaves the user's server running
    expect(server.pids()).toHaveLength(1);
  });

  it('refuses server settings it cannot apply to brokers it does not run', async () => {
    const opts = adapter.parseOptions({ syncInterval: 'always' }, 'x');
    await expect(
      adapter.open({ runId: 'x', runDir: tempDir(), producers: 1, consumers: 1, messageSize: SIZE, maxInFlight: 10, brokers: 'external', externalUrls: { nats: 'nats://127.0.0.1:1' }, options: opts, log: () => undefined }),
    ).rejects.toThrow(/nats.syncInterval "always" is a setting of the server's config file/);
  });
});
