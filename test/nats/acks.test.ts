/**
 * The consuming side of exactly-once against a real nats-server: double acks (ack()
 * resolves once the server recorded the ack, and waits out a dead server), and close()
 * never acknowledging, so what a crashed consumer received comes again to the next one.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Consumer, DeliveryBatch, SystemSession } from '../../src/core/contract.ts';
import type { NatsWorkerInit } from '../../src/adapters/nats/index.ts';
import type { PullConsumer } from '../../src/adapters/nats/consumer.ts';
import { workerSide } from '../../src/adapters/nats/worker.ts';
import { liveBrokers } from '../../src/brokers/common/processes.ts';
import { readSeq } from '../../src/core/envelope.ts';
import { SeqSet } from '../../src/checks/seqset.ts';
import { SIZE, consume, control, openNats, publish, reconcile, removeTempDirs } from './helpers.ts';

let open: SystemSession<NatsWorkerInit> | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
  expect(liveBrokers()).toEqual([]);
});
afterAll(removeTempDirs);

const newConsumer = (session: SystemSession<NatsWorkerInit>): Promise<Consumer> =>
  workerSide.createConsumer(session.workerInit, { consumerId: 0, consumers: 1, producers: 1, messageSize: SIZE, control });

/** Receives until `count` messages are in hand (at most 10 s), without acking. */
async function receiveAtLeast(consumer: Consumer, count: number): Promise<DeliveryBatch[]> {
  const batches: DeliveryBatch[] = [];
  let n = 0;
  const deadline = Date.now() + 10_000;
  while (n < count && Date.now() < deadline) {
    const b = await consumer.receive(count - n, 200);
    if (b.count > 0) batches.push(b);
    n += b.count;
  }
  return batches;
}

describe('double ack', { timeout: 60_000 }, () => {
  for (const ackPolicy of ['explicit', 'all'] as const) {
    it(`ack() resolves once the server recorded every ack of the batch (ackPolicy ${ackPolicy})`, async () => {
      const { session } = await openNats({ doubleAck: 'on', ackPolicy }, `dack_${ackPolicy}`);
      open = session;
      await publish(session, 500);
      const consumer = await newConsumer(session);
      const batches = await receiveAtLeast(consumer, 500);
      for (const b of batches) await consumer.ack(b);
      // no polling: a confirmed ack is one the server has applied already
      const d = (await session.brokerCounts!()).detail;
      await consumer.close();
      expect(batches.reduce((n, b) => n + b.count, 0)).toBe(500);
      expect(d).toMatchObject({ ackFloor: 500, ackPending: 0 });
    });
  }

  it('ack() waits while the server is down and resolves once it confirmed the acks after the restart', async () => {
    const { session } = await openNats({ doubleAck: 'on', storage: 'file', ackTimeout: '1s' }, 'dackdown');
    open = session;
    await publish(session, 100);
    const consumer = await newConsumer(session);
    const batches = await receiveAtLeast(consumer, 100);
    await session.faults!.kill();
    let resolved = false;
    const acking = Promise.all(batches.map((b) => consumer.ack(b))).then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 500));
    // nothing can confirm an ack while the server is gone
    expect(resolved).toBe(false);
    await session.faults!.restart();
    await acking;
    expect(resolved).toBe(true);
    expect((consumer as PullConsumer).unconfirmedBatches).toBe(0);
    await consumer.close();
  });
});

describe('close() never acks', { timeout: 60_000 }, () => {
  for (const doubleAck of ['off', 'on'] as const) {
    it(`what a closed consumer received but did not ack is delivered again to the next one after ackWait (doubleAck ${doubleAck})`, async () => {
      const { session } = await openNats({ ackWait: '1s', doubleAck }, `crash_${doubleAck}`);
      open = session;
      const sent = await publish(session, 300);
      // the "crash": received (processed), then closed without an ack
      const first = await newConsumer(session);
      const inHand = new Set<number>();
      for (const b of await receiveAtLeast(first, 100)) for (let i = 0; i < b.count; i++) inHand.add(readSeq(b.buffer(i), b.offset(i)));
      await first.close();
      expect(inHand.size).toBeGreaterThanOrEqual(100);
      // nothing was acknowledged: the durable's ack floor has not moved
      expect((await session.brokerCounts!()).detail?.ackFloor).toBe(0);

      const next = await consume(session, 300);
      const v = reconcile([sent.snapshot()], [next.snapshot()]);
      expect(v.counts).toMatchObject({ received: 300, lost: 0, duplicated: 0 });
      // every message the crashed consumer had in hand came again
      const again = SeqSet.fromSnapshot(next.snapshot().perProducer[0]!.received);
      expect([...inHand].filter((seq) => !again.has(seq))).toEqual([]);
    });
  }
});
