import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { SystemSession } from '../../src/core/contract.ts';
import type { NatsWorkerInit } from '../../src/adapters/nats/index.ts';
import { closeConnection, connectNats } from '../../src/adapters/nats/connection.ts';
import { liveBrokers } from '../../src/brokers/common/processes.ts';
import { consume, eventually, openNats, publish, reconcile, removeTempDirs } from './helpers.ts';

let open: SystemSession | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
  expect(liveBrokers()).toEqual([]);
});
afterAll(removeTempDirs);

describe('NATS JetStream 3-node cluster on one host', () => {
  it('replicates the stream to all 3 nodes and survives kill -9 of all of them', async () => {
    const { session, opts } = await openNats({ replicas: 3 }, 'cluster');
    open = session;
    expect(opts).toMatchObject({ topology: 'cluster3', replicas: 3 });
    expect(session.config.broker).toMatchObject({ topology: '3-node JetStream cluster on one host' });
    const init = session.workerInit as unknown as NatsWorkerInit;
    expect(new Set(init.servers).size).toBe(3);
    expect(liveBrokers()).toHaveLength(3);

    const sent = await publish(session, 1000);
    expect(sent.ackedSet.size).toBe(1000);

    // stream info as the server reports it: a leader and two current replicas (a follower
    // may trail the quorum's acks for a moment, so it gets a few seconds to catch up)
    const nc = await connectNats(init.servers, 'test');
    const jsm = await jetstreamManager(nc);
    const si = await eventually(
      () => jsm.streams.info(init.stages[0]!.stream),
      (i) => (i.cluster?.replicas ?? []).filter((r) => r.current).length === 2,
    );
    await closeConnection(nc);
    expect(si.config.num_replicas).toBe(3);
    expect(si.cluster?.name).toBe('busbench');
    expect(si.cluster?.leader).toMatch(/^n[123]$/);
    const replicas = (si.cluster?.replicas ?? []).map((r) => ({ name: r.name, current: r.current })).sort((a, b) => a.name.localeCompare(b.name));
    expect(replicas).toEqual(['n1', 'n2', 'n3'].filter((n) => n !== si.cluster?.leader).map((name) => ({ name, current: true })));
    expect((await session.brokerCounts!()).detail).toMatchObject({ replicas: 3 });

    await session.faults!.kill();
    expect(liveBrokers()).toEqual([]);
    await session.faults!.restart();
    expect((await session.brokerCounts!()).stored).toBe(1000);
    const got = await consume(session, 1000);
    expect(reconcile([sent.snapshot()], [got.snapshot()]).counts).toMatchObject({ ackedLost: 0, received: 1000 });
  });
});
