import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NativeNats } from '../../src/brokers/nats/native.ts';
import { natsServerConfig, type NatsNodePlan } from '../../src/brokers/nats/config.ts';
import { ensureNatsServer, versionAtLeast } from '../../src/brokers/nats/install.ts';
import { liveBrokers } from '../../src/brokers/common/processes.ts';
import { canConnect } from '../../src/brokers/common/ports.ts';
import { natsDeployment } from '../../src/brokers/nats/deployment.ts';
import { BrokerError } from '../../src/core/errors.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-natsbroker-'));
  dirs.push(d);
  return d;
}
let server: NativeNats | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
  expect(liveBrokers()).toEqual([]);
});
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('nats-server config files', () => {
  const nodes: NatsNodePlan[] = [1, 2, 3].map((i) => ({ name: `n${i}`, clientPort: 4000 + i, clusterPort: 5000 + i, monitorPort: 6000 + i }));
  const settings = { dataDir: '/run/x/data', syncInterval: 'always' };

  it('gives each cluster node its own ports, store directory and routes to the other two', () => {
    const confs = nodes.map((n) => natsServerConfig(n, nodes, settings));
    for (const [i, conf] of confs.entries()) {
      const n = nodes[i]!;
      expect(conf).toContain(`server_name: ${n.name}`);
      expect(conf).toContain(`listen: 127.0.0.1:${n.clientPort}`);
      expect(conf).toContain(`http: 127.0.0.1:${n.monitorPort}`);
      expect(conf).toContain(`listen: 127.0.0.1:${n.clusterPort}`);
      expect(conf).toContain(`store_dir: "/run/x/data/${n.name}"`);
      expect(conf).toContain('sync_interval: always');
      const routes = /routes: \[(.*)\]/.exec(conf)![1]!.split(', ');
      expect(routes.sort()).toEqual(nodes.filter((o) => o !== n).map((o) => `nats-route://127.0.0.1:${o.clusterPort}`));
      // nothing listens beyond loopback
      expect(conf).not.toMatch(/0\.0\.0\.0/);
    }
  });

  it('writes no cluster block for a single server and leaves sync_interval to the server by default', () => {
    const conf = natsServerConfig(nodes[0]!, [nodes[0]!], { dataDir: '/d', syncInterval: 'default' });
    expect(conf).not.toContain('cluster');
    expect(conf).not.toContain('sync_interval');
  });
});

describe('native nats-server', () => {
  it('runs on loopback with its config, data and log under the run folder; stop, kill -9 and restart keep ports and data', async () => {
    const dir = tempDir();
    server = new NativeNats({ dir });
    await server.start();
    const d = server.describe();
    expect(d).toMatchObject({ system: 'nats', mode: 'native', version: '2.15.2', topology: 'single server' });
    expect(d.source).toMatch(/go install github.com\/nats-io\/nats-server\/v2@v2.15.2|NATS_SERVER_BIN/);
    const url = server.urls()[0]!;
    const port = Number(new URL(url).port);
    expect(url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    expect(fs.existsSync(path.join(dir, 'conf', 'nats-n1.conf'))).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'logs', 'nats-n1.log'), 'utf8')).toContain('Server is ready');
    expect(fs.existsSync(path.join(dir, 'data', 'n1', 'jetstream'))).toBe(true);
    const [pid] = server.pids();

    await server.kill();
    expect(server.pids()).toEqual([]);
    expect(await canConnect(port)).toBe(false);
    await server.restart();
    expect(server.urls()).toEqual([url]);
    expect(server.pids()[0]).not.toBe(pid);
    expect(await canConnect(port)).toBe(true);

    await server.stop();
    expect(server.pids()).toEqual([]);
    expect(await canConnect(port)).toBe(false);
    expect(server.logTail(50)).toMatch(/Server Exiting|Initiating Shutdown/i);
  });

  it('fails fast with the log tail when the server exits during start, and leaves nothing running', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'data'), 'not a directory');
    server = new NativeNats({ dir, topology: 'cluster3' });
    const err = await server.start().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerError);
    expect((err as BrokerError).message).toMatch(/nats-server n\d exited during start/);
    expect((err as BrokerError).logTail).toMatch(/storage directory is not a directory/);
    expect(liveBrokers()).toEqual([]);
  });

  it('external deployments never start, stop or kill anything', async () => {
    const d = natsDeployment('external', { dir: '/nonexistent', externalUrl: 'nats://127.0.0.1:4222,nats://127.0.0.1:4223' });
    expect(d.urls()).toEqual(['nats://127.0.0.1:4222', 'nats://127.0.0.1:4223']);
    await d.start();
    await d.stop();
    await expect(d.kill()).rejects.toThrow('fault injection needs brokers the harness controls; --brokers external refuses');
    await expect(d.restart()).rejects.toThrow(/--brokers external refuses/);
    expect(() => natsDeployment('external', { dir: '/x' })).toThrow(/--url nats=/);
  });
});

describe('nats-server install', () => {
  const saved = process.env.NATS_SERVER_BIN;
  afterEach(() => {
    if (saved === undefined) delete process.env.NATS_SERVER_BIN;
    else process.env.NATS_SERVER_BIN = saved;
  });

  it('compares versions', () => {
    expect(versionAtLeast('2.9.10', 2, 10)).toBe(false);
    expect(versionAtLeast('2.10.0', 2, 10)).toBe(true);
    expect(versionAtLeast('2.15.2', 2, 10)).toBe(true);
    expect(versionAtLeast('3.0.0', 2, 10)).toBe(true);
  });

  it('NATS_SERVER_BIN wins, is recorded, and a pre-2.10 server refuses sync_interval before starting', async () => {
    // stands in for Debian's nats-server 2.9.10: only --version is ever run
    const fake = path.join(tempDir(), 'nats-server');
    fs.writeFileSync(fake, '#!/bin/sh\necho "nats-server: v2.9.10"\n', { mode: 0o755 });
    process.env.NATS_SERVER_BIN = fake;
    expect(await ensureNatsServer()).toEqual({ path: fake, version: '2.9.10', source: `NATS_SERVER_BIN=${fake}`, supportsSyncInterval: false });
    server = new NativeNats({ dir: tempDir(), syncInterval: '100ms' });
    await expect(server.start()).rejects.toThrow(/nats.syncInterval "100ms": nats-server 2.9.10 \(NATS_SERVER_BIN=.*\) predates sync_interval \(2.10\)/);
    expect(liveBrokers()).toEqual([]);
  });

  it('refuses a NATS_SERVER_BIN that does not exist', async () => {
    process.env.NATS_SERVER_BIN = '/nonexistent/nats-server';
    await expect(ensureNatsServer()).rejects.toThrow(/NATS_SERVER_BIN=\/nonexistent\/nats-server: no such file/);
  });
});
