/**
 * nats-server run by the harness: one server, or a 3-node JetStream cluster on one host,
 * each node with its own client, cluster and monitoring ports on 127.0.0.1, its own
 * store directory under the run folder, and a config file we write.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BrokerDeployment, BrokerDescription } from '../broker.ts';
import { BrokerError, BusbenchError } from '../../core/errors.ts';
import { spawnBroker, type BrokerProcess } from './processes.ts';
import { freePort, waitUntil } from './ports.ts';
import { ensureNatsServer, type NatsServerInstall } from './nats-install.ts';

export type NatsTopology = 'single' | 'cluster3';

export interface NativeNatsOptions {
  /** the run folder: config, data (dir/data) and logs go here */
  dir: string;
  topology?: NatsTopology;
  /** JetStream sync_interval: "default" (server's 2 min), "always", or a duration like "100ms" */
  syncInterval?: string;
  log?: (line: string) => void;
  startTimeoutMs?: number;
}

interface Node {
  name: string;
  clientPort: number;
  clusterPort: number;
  monitorPort: number;
  config: string;
  logFile: string;
  proc?: BrokerProcess;
}

export class NativeNats implements BrokerDeployment {
  readonly system = 'nats';
  readonly mode = 'native' as const;
  private install?: NatsServerInstall;
  private nodes: Node[] = [];
  private readonly topology: NatsTopology;

  constructor(private readonly opts: NativeNatsOptions) {
    this.topology = opts.topology ?? 'single';
  }

  urls(): string[] {
    return this.nodes.map((n) => `nats://127.0.0.1:${n.clientPort}`);
  }

  /** pids of the running servers (tests check none survives) */
  pids(): number[] {
    return this.nodes.flatMap((n) => (n.proc?.running ? [n.proc.pid] : []));
  }

  monitorUrls(): string[] {
    return this.nodes.map((n) => `http://127.0.0.1:${n.monitorPort}`);
  }

  describe(): BrokerDescription {
    return {
      system: this.system,
      mode: this.mode,
      version: this.install?.version ?? 'not started',
      source: this.install?.source ?? '',
      topology: this.topology === 'single' ? 'single server' : '3-node JetStream cluster on one host',
      urls: this.urls(),
      syncInterval: this.opts.syncInterval ?? 'default',
    };
  }

  async start(): Promise<void> {
    this.install = await ensureNatsServer(this.opts.log);
    const sync = this.opts.syncInterval ?? 'default';
    if (sync !== 'default' && !this.install.supportsSyncInterval) {
      throw new BusbenchError('CONFIG', `nats.syncInterval ${sync}: nats-server ${this.install.version} (${this.install.source}) predates sync_interval (2.10); use "default" or a newer server`);
    }
    if (this.nodes.length === 0) await this.plan();
    for (const n of this.nodes) this.launch(n);
    await this.waitReady();
  }

  private async plan(): Promise<void> {
    const count = this.topology === 'single' ? 1 : 3;
    const nodes: Node[] = [];
    for (let i = 1; i <= count; i++) {
      nodes.push({
        name: `n${i}`,
        clientPort: await freePort(),
        clusterPort: await freePort(),
        monitorPort: await freePort(),
        config: path.join(this.opts.dir, `nats-n${i}.conf`),
        logFile: path.join(this.opts.dir, 'logs', `nats-n${i}.log`),
      });
    }
    fs.mkdirSync(path.join(this.opts.dir, 'logs'), { recursive: true });
    for (const n of nodes) fs.writeFileSync(n.config, this.configFor(n, nodes));
    this.nodes = nodes;
  }

  private configFor(n: Node, all: Node[]): string {
    const sync = this.opts.syncInterval ?? 'default';
    const store = path.join(this.opts.dir, 'data', n.name);
    const lines = [
      `server_name: ${n.name}`,
      `listen: 127.0.0.1:${n.clientPort}`,
      `http: 127.0.0.1:${n.monitorPort}`,
      'max_payload: 8MB',
      'jetstream {',
      `  store_dir: ${JSON.stringify(store)}`,
      '  max_memory_store: 4GB',
      '  max_file_store: 20GB',
      ...(sync !== 'default' ? [`  sync_interval: ${sync}`] : []),
      '}',
    ];
    if (all.length > 1) {
      lines.push(
        'cluster {',
        '  name: busbench',
        `  listen: 127.0.0.1:${n.clusterPort}`,
        `  routes: [${all.filter((o) => o !== n).map((o) => `nats-route://127.0.0.1:${o.clusterPort}`).join(', ')}]`,
        '}',
      );
    }
    return lines.join('\n') + '\n';
  }

  private launch(n: Node): void {
    n.proc = spawnBroker({ name: `nats-${n.name}`, command: this.install!.path, args: ['-c', n.config], logFile: n.logFile });
  }

  private async waitReady(): Promise<void> {
    const timeout = this.opts.startTimeoutMs ?? 60_000;
    const healthy = async (n: Node): Promise<boolean> => {
      if (!n.proc?.running) throw new BrokerError(`nats-server ${n.name} exited during start`, n.proc?.logTail() ?? '');
      try {
        const r = await fetch(`http://127.0.0.1:${n.monitorPort}/healthz?js-enabled-only=true`);
        return r.ok;
      } catch {
        return false;
      }
    };
    const ok = await waitUntil(async () => (await Promise.all(this.nodes.map(healthy))).every(Boolean), timeout, 100);
    if (!ok) {
      const tails = this.nodes.map((n) => `[${n.name}]\n${n.proc?.logTail(15) ?? ''}`).join('\n');
      await this.kill();
      throw new BrokerError(`nats-server (${this.topology}) not ready within ${timeout / 1000} s`, tails);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.proc?.stop()));
  }

  async kill(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.proc?.kill9()));
  }

  async restart(): Promise<void> {
    if (this.nodes.some((n) => n.proc?.running)) await this.stop();
    for (const n of this.nodes) this.launch(n);
    await this.waitReady();
  }

  logTail(lines = 30): string {
    return this.nodes.map((n) => `[${n.name}]\n${n.proc?.logTail(lines) ?? ''}`).join('\n');
  }
}
