/**
 * Pipeline stages against a real nats-server: one stream per stage (so each has its own
 * duplicate window), producers and consumers pick theirs by spec.stage, broker counts
 * stay those of stage 0, and closing the session deletes every stage.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { SystemSession } from '../../src/core/contract.ts';
import type { NatsWorkerInit } from '../../src/adapters/nats/index.ts';
import { closeConnection, connectNats } from '../../src/adapters/nats/connection.ts';
import { workerSide } from '../../src/adapters/nats/worker.ts';
import { liveBrokers } from '../../src/brokers/common/processes.ts';
import { NativeNats } from '../../src/brokers/nats/native.ts';
import { ProducerLedger } from '../../src/checks/ledger.ts';
import { SIZE, batchOf, consume, control, createProducer, openNats, removeTempDirs, tempDir } from './helpers.ts';

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

async function sendTo(session: SystemSession<NatsWorkerInit>, stage: number, producerId: number, origin: number, count: number): Promise<ProducerLedger> {
  const { producer, ledger } = await createProducer(session, producerId, 500, stage);
  await producer.send(batchOf(origin, 0, count));
  await producer.flush(20_000);
  await producer.close();
  return ledger;
}

describe('NATS pipeline stages', { timeout: 60_000 }, () => {
  it('gives each stage its own stream and duplicate window; counts report stage 0 with the rest in the detail', async () => {
    const { session } = await openNats({ msgId: 'on' }, 'stages', { stages: 3 });
    open = session;
    const init = session.workerInit as unknown as NatsWorkerInit;
    expect(init.stages.map((s) => s.stream)).toEqual(['busbench_stages', 'busbench_stages_s1', 'busbench_stages_s2']);
    expect(new Set(init.stages.map((s) => s.subject)).size).toBe(3);
    expect(session.config.stages).toEqual(['busbench_stages', 'busbench_stages_s1', 'busbench_stages_s2']);

    // origin producer 0's sequences 0..99 at stage 0, then forwarded to stage 1 by a
    // stage processor (producer id 5): same message ids, another stream, so stored again
    expect((await sendTo(session, 0, 0, 0, 100)).ackedSet.size).toBe(100);
    expect((await sendTo(session, 1, 5, 0, 60)).ackedSet.size).toBe(60);

    const counts = await session.brokerCounts!();
    expect(counts.stored).toBe(100);
    expect(counts.detail).toMatchObject({ lastSeq: 100, stage1Stored: 60, stage2Stored: 0 });

    // a consumer reads its own stage only
    const got1 = await consume(session, 60, 10_000, 1);
    expect(got1.unique).toBe(60);
    const got2 = await consume(session, 1, 1_000, 2);
    expect(got2.deliveries).toBe(0);
    const got0 = await consume(session, 100, 10_000, 0);
    expect(got0.unique).toBe(100);
  });

  it('refuses a stage the run does not have', async () => {
    const { session } = await openNats({}, 'nostage', { stages: 2 });
    open = session;
    await expect(workerSide.createProducer(session.workerInit, { producerId: 0, stage: 2, messageSize: SIZE, maxInFlight: 10, control }, new ProducerLedger(0))).rejects.toThrow(/stage 2 does not exist \(the run has 2\)/);
    await expect(workerSide.createConsumer(session.workerInit, { consumerId: 0, stage: 3, consumers: 1, producers: 1, messageSize: SIZE, control })).rejects.toThrow(/stage 3 does not exist/);
  });

  it('deletes every stage on close', async () => {
    server = new NativeNats({ dir: tempDir() });
    await server.start();
    const url = server.urls()[0]!;
    const { session } = await openNats({}, 'stagesgone', { stages: 4, brokers: 'external', externalUrls: { nats: url } });
    const nc = await connectNats([url], 'test');
    try {
      const jsm = await jetstreamManager(nc);
      const names = async (): Promise<string[]> => (await jsm.streams.names().next()).filter((n) => n.startsWith('busbench_stagesgone'));
      expect(await names()).toHaveLength(4);
      await session.close();
      expect(await names()).toEqual([]);
    } finally {
      await closeConnection(nc);
    }
  });
});
