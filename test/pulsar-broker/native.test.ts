/**
 * The real Pulsar standalone broker, started once for the file (a start costs ~15-25 s on
 * two cores), killed with -9 and restarted once, stopped in afterAll.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pulsarDeployment } from '../../src/brokers/pulsar/deployment.ts';
import type { NativePulsar } from '../../src/brokers/pulsar/native.ts';
import { PulsarAdmin, PulsarAdminError } from '../../src/brokers/pulsar/admin.ts';
import { ensurePulsar } from '../../src/brokers/pulsar/install.ts';
import { canConnect } from '../../src/brokers/common/ports.ts';
import { commandLine, listeningSockets, processGroupMembers, produceViaRest } from './helpers.ts';

let dir: string;
let broker: NativePulsar;
let admin: PulsarAdmin;
const lines: string[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-pulsar-'));
  broker = pulsarDeployment('native', { dir, log: (l) => lines.push(l) });
  await broker.start();
  admin = new PulsarAdmin(broker.adminUrl());
});

afterAll(async () => {
  await broker?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('native Pulsar standalone', () => {
  it('is installed once: a second ensurePulsar is a cache hit', async () => {
    const log: string[] = [];
    const install = await ensurePulsar((l) => log.push(l));
    expect(log).toEqual([]);
    expect(install.version).toBe('4.0.8');
    expect(install.java.major).toBeGreaterThanOrEqual(21);
    expect(broker.describe()).toMatchObject({ system: 'pulsar', mode: 'native', version: '4.0.8', journalSyncData: true, deduplication: true, transactions: true });
  });

  it('answers on 127.0.0.1 only, on its own ports, with our configuration', async () => {
    const [url] = broker.urls();
    expect(url).toMatch(/^pulsar:\/\/127\.0\.0\.1:\d+$/);
    expect(await admin.clusters()).toContain('standalone');
    expect(await admin.version()).toBe('4.0.8');
    expect(await admin.namespaces('public')).toContain('public/default');

    const pid = broker.pid ?? -1;
    const sockets = listeningSockets(pid);
    expect(sockets.length).toBe(3); // broker, admin/web, bookie
    for (const s of sockets) expect(s).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(sockets).toContain(`127.0.0.1:${new URL(broker.adminUrl()).port}`);
    expect(sockets).toContain(`127.0.0.1:${new URL(url ?? '').port}`);

    const conf = fs.readFileSync(path.join(dir, 'conf', 'standalone.conf'), 'utf8');
    expect(conf).toMatch(/^journalSyncData=true$/m);
    expect(conf).toMatch(/^brokerDeduplicationEnabled=true$/m);
    expect(conf).toMatch(/^transactionCoordinatorEnabled=true$/m);
    expect(fs.existsSync(path.join(dir, 'data', 'bookkeeper', 'current'))).toBe(true);
  });

  it('admin API creates a tenant, namespace and topics, reads their stats and deletes them', async () => {
    await admin.createTenant('busbench', ['standalone']);
    await admin.createTenant('busbench', ['standalone']); // idempotent
    expect(await admin.tenants()).toContain('busbench');
    await admin.createNamespace('busbench/admin', { deduplication: true });
    expect(await admin.namespaces('busbench')).toContain('busbench/admin');

    await admin.createTopic('persistent://busbench/admin/plain');
    await admin.createTopic('busbench/admin/parted', 3);
    expect(await admin.partitions('busbench/admin/parted')).toBe(3);
    expect(await admin.partitions('busbench/admin/plain')).toBe(0);
    expect(await admin.partitionedTopics('busbench/admin')).toEqual(['persistent://busbench/admin/parted']);
    expect(await admin.topics('busbench/admin')).toEqual(
      expect.arrayContaining(['persistent://busbench/admin/plain', 'persistent://busbench/admin/parted-partition-2']),
    );

    await admin.createSubscription('busbench/admin/plain', 'sub');
    const plain = await admin.topicStats('busbench/admin/plain');
    expect(plain.msgInCounter).toBe(0);
    expect(plain.subscriptions.sub?.msgBacklog).toBe(0);
    const parted = await admin.topicStats('busbench/admin/parted');
    expect(parted.msgOutCounter).toBe(0);

    await admin.deleteTopic('busbench/admin/plain', { force: true });
    await admin.deleteTopic('busbench/admin/parted', { force: true });
    await admin.deleteTopic('busbench/admin/never-existed');
    expect(await admin.topics('busbench/admin')).toEqual([]);
    await expect(admin.topicStats('busbench/admin/plain')).rejects.toBeInstanceOf(PulsarAdminError);
  });

  it('kill -9 of the JVM, then restart on the same data: topics and acknowledged messages are still there', async () => {
    const n = 50;
    await admin.createTenant('busbench', ['standalone']);
    await admin.createNamespace('busbench/durable', { deduplication: false });
    const topic = 'persistent://busbench/durable/kept';
    await admin.createTopic(topic);
    await admin.createSubscription(topic, 'reader');
    await produceViaRest(broker.adminUrl(), topic, Array.from({ length: n }, (_, i) => `m${i}`));
    await admin.createSubscription(topic, 'late'); // created after the messages, starts at the earliest
    const stats = await admin.topicStats(topic);
    expect(stats.subscriptions.reader?.msgBacklog).toBe(n);
    expect(stats.subscriptions.late?.msgBacklog).toBe(n);

    const urlsBefore = broker.urls();
    const pid = broker.pid ?? -1;
    expect(commandLine(pid)).toContain('org.apache.pulsar.PulsarStandaloneStarter'); // the JVM, not a wrapper
    await broker.kill();
    expect(processGroupMembers(pid)).toEqual([]);

    await broker.restart();
    expect(broker.urls()).toEqual(urlsBefore);
    expect(broker.pid).not.toBe(pid);
    expect(await admin.topics('busbench/durable')).toContain(topic);
    expect((await admin.topicStats(topic)).subscriptions.reader?.msgBacklog).toBe(n);
  });

  it('stop leaves no process and frees the ports', async () => {
    const pid = broker.pid ?? -1;
    const port = Number(new URL(broker.adminUrl()).port);
    await broker.stop();
    await broker.stop(); // idempotent
    expect(processGroupMembers(pid)).toEqual([]);
    expect(await canConnect(port)).toBe(false);
    expect(lines.filter((l) => l.includes('ready in')).length).toBe(2);
  });
});

describe('native Pulsar standalone that cannot start', () => {
  it('fails fast with the broker log tail and leaves no process', async () => {
    const failDir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-pulsar-fail-'));
    const bad = pulsarDeployment('native', { dir: failDir, jvmMemory: '-Xms256m -Xmx256m', config: { brokerServicePort: 'not-a-port' } });
    try {
      await expect(bad.start()).rejects.toMatchObject({ code: 'BROKER', message: expect.stringMatching(/exited with code 1 while starting[\s\S]*brokerServicePort/) });
      expect(bad.pid).toBeUndefined();
    } finally {
      await bad.stop();
      fs.rmSync(failDir, { recursive: true, force: true });
    }
  });
});
