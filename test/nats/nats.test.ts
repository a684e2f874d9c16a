import { afterEach, describe, expect, it } from 'vitest';
import type { SystemSession } from '../../src/core/contract.ts';
import { adapter } from '../../src/adapters/nats/index.ts';
import { liveBrokers } from '../../src/brokers/native/processes.ts';
import { natsDeployment } from '../../src/brokers/nats-deployment.ts';
import { consume, openNats, publish, reconcile } from './helpers.ts';

let open: SystemSession | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
  expect(liveBrokers()).toEqual([]);
});

describe('NATS JetStream adapter against a real nats-server', () => {
  it('publishes with acks, consumes with explicit acks, and agrees with stream info', async () => {
    const { session } = await openNats({ storage: 'file' }, 'basic');
    open = session;
    const sent = await publish(session, 3000);
    const got = await consume(session, 3000);
    const v = reconcile([sent.snapshot()], [got.snapshot()]);
    expect(v.problems).toEqual([]);
    expect(v.counts).toMatchObject({ sent: 3000, acked: 3000, received: 3000, lost: 0, duplicated: 0, outOfOrder: 0 });
    const counts = await session.brokerCounts!();
    expect(counts.stored).toBe(3000);
    // every delivery acknowledged: nothing left pending at the server
    await new Promise((r) => setTimeout(r, 300));
    expect((await session.brokerCounts!()).detail?.ackPending).toBe(0);
  });

  it('runs a 3-node cluster with replicas 3', async () => {
    const { session } = await openNats({ replicas: 3, storage: 'file' }, 'cluster');
    open = session;
    expect(session.config.broker).toMatchObject({ topology: '3-node JetStream cluster on one host' });
    expect((session.config.broker as { urls: string[] }).urls).toHaveLength(3);
    const sent = await publish(session, 1000);
    const got = await consume(session, 1000);
    expect(reconcile([sent.snapshot()], [got.snapshot()]).problems).toEqual([]);
    expect((await session.brokerCounts!()).stored).toBe(1000);
  });

  it('file storage keeps every acknowledged message across kill -9 and restart', async () => {
    const { session } = await openNats({ storage: 'file', syncInterval: 'always' }, 'durable');
    open = session;
    const sent = await publish(session, 2000);
    expect(sent.ackedSet.size).toBe(2000);
    await session.faults!.kill();
    await session.faults!.restart();
    expect((await session.brokerCounts!()).stored).toBe(2000);
    const got = await consume(session, 2000);
    const v = reconcile([sent.snapshot()], [got.snapshot()]);
    expect(v.counts.ackedLost).toBe(0);
    expect(v.counts.received).toBeGreaterThanOrEqual(2000);
  });

  it('memory storage loses acknowledged messages on kill -9, and the adapter says it is not durable', async () => {
    const { session, opts } = await openNats({ storage: 'memory' }, 'memory');
    open = session;
    expect(adapter.capabilities(opts).durable).toBe(false);
    const sent = await publish(session, 1000);
    expect(sent.ackedSet.size).toBe(1000);
    await session.faults!.kill();
    await session.faults!.restart();
    // the stream itself lived only in memory
    await expect(session.brokerCounts!()).rejects.toThrow(/stream not found/i);
  });

  it('external brokers refuse fault injection with a clear message', async () => {
    const d = natsDeployment('external', { dir: '/nonexistent', externalUrl: 'nats://127.0.0.1:1' });
    await expect(d.kill()).rejects.toThrow(/fault injection needs brokers the harness controls/);
    await expect(d.restart()).rejects.toThrow(/--brokers external/);
  });

  it('refuses bad options with the field and what is valid', () => {
    expect(() => adapter.parseOptions({ storage: 'disk' }, 'scenarios/x.yaml')).toThrow('scenarios/x.yaml: nats.storage: expected "file" or "memory", got "disk"');
    expect(() => adapter.parseOptions({ replicas: 3, topology: 'single' }, 'x')).toThrow(/nats.replicas/);
    expect(() => adapter.parseOptions({ syncInterval: 'often' }, 'x')).toThrow(/nats.syncInterval/);
    expect(() => adapter.parseOptions({ colour: 1 }, 'x')).toThrow(/nats.colour: expected one of the fields/);
  });
});
