/**
 * nats-server run by the harness: one server, or a 3-node JetStream cluster on one host.
 * Each node has its own client, cluster and monitoring ports on 127.0.0.1, its own store
 * directory and log under the run folder, and a config file we write
 * (<dir>/conf, <dir>/data/<node>, <dir>/logs). Restart reuses ports and store directories,
 * which is what makes kill -9 + restart a durability test.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FaultTarget, PowerCut, PowerLossMode } from '../../core/contract.ts';
import { nodesOf } from '../../core/fault-target.ts';
import type { BrokerDeployment, BrokerDescription } from '../broker.ts';
import { LossyDataDir, type LayerOptions } from '../common/power-loss.ts';
import { BrokerError, BusbenchError } from '../../core/errors.ts';
import { fileSize, readFrom, spawnBroker, type BrokerProcess } from '../common/processes.ts';
import { streamNotRestored } from './recovery.ts';
import { freePort, waitUntil } from '../common/ports.ts';
import { ensureNatsServer, type NatsServerInstall } from './install.ts';
import { natsServerConfig, type NatsNodePlan, type NatsServerSettings } from './config.ts';

export type NatsTopology = 'single' | 'cluster3';

/** What a kill target calls each node of a topology (core/fault-target.ts). */
export function natsNodeNames(topology: NatsTopology): string[] {
  return topology === 'single' ? ['nats-1'] : ['nats-1', 'nats-2', 'nats-3'];
}

/** node n2 is nats-2 to a kill target */
function faultName(n: { name: string }): string {
  return `nats-${n.name.slice(1)}`;
}

export interface NativeNatsOptions {
  /** the broker's folder in the run folder: conf/, data/ and logs/ go under it */
  dir: string;
  topology?: NatsTopology;
  /** JetStream sync_interval: "default" (the server's 2 min), "always", or a duration like "100ms" */
  syncInterval?: string;
  /** jetstream.max_buffered_msgs (per-stream ingest queue); the server's default when unset */
  maxBufferedMsgs?: number;
  log?: (line: string) => void;
  /** start and restart, until every node is healthy; default 60 s */
  startTimeoutMs?: number;
  /** SIGTERM grace before SIGKILL in stop(); default 10 s */
  stopGraceMs?: number;
  /** put data/ on the power-loss layer, for powerLoss() */
  powerLoss?: LayerOptions | undefined;
}

interface Node extends NatsNodePlan {
  config: string;
  logFile: string;
  proc?: BrokerProcess;
  /** the log's size at the last (re)start: what the server wrote since begins here */
  logStart?: number;
}

const TOPOLOGY_TEXT: Record<NatsTopology, string> = {
  single: 'single server',
  cluster3: '3-node JetStream cluster on one host',
};

export class NativeNats implements BrokerDeployment {
  readonly system = 'nats';
  readonly mode = 'native' as const;
  private install?: NatsServerInstall;
  private nodes: Node[] = [];
  private readonly topology: NatsTopology;
  private readonly settings: NatsServerSettings;
  private readonly layer: LossyDataDir | undefined;

  constructor(private readonly opts: NativeNatsOptions) {
    this.topology = opts.topology ?? 'single';
    this.settings = { dataDir: path.join(opts.dir, 'data'), syncInterval: opts.syncInterval ?? 'default', maxBufferedMsgs: opts.maxBufferedMsgs };
    this.layer = opts.powerLoss ? new LossyDataDir(this.settings.dataDir, opts.powerLoss, opts.log) : undefined;
  }

  urls(): string[] {
    return this.nodes.map((n) => `nats://127.0.0.1:${n.clientPort}`);
  }

  monitorUrls(): string[] {
    return this.nodes.map((n) => `http://127.0.0.1:${n.monitorPort}`);
  }

  /** pids of the running servers */
  pids(): number[] {
    return this.nodes.flatMap((n) => (n.proc?.running ? [n.proc.pid] : []));
  }

  processes(): Array<{ name: string; pid: number }> {
    return this.nodes.flatMap((n) => (n.proc?.running ? [{ name: `nats-server ${n.name}`, pid: n.proc.pid }] : []));
  }

  describe(): BrokerDescription {
    return {
      system: this.system,
      mode: this.mode,
      version: this.install?.version ?? 'not started',
      source: this.install?.source ?? '',
      topology: TOPOLOGY_TEXT[this.topology],
      urls: this.urls(),
      syncInterval: this.settings.syncInterval,
      dataDir: this.settings.dataDir,
      ...(this.layer ? { dataLayer: `power-loss layer over ${this.layer.backing}` } : {}),
    };
  }

  async start(): Promise<void> {
    if (this.nodes.some((n) => n.proc?.running)) return;
    this.install = await ensureNatsServer(this.opts.log);
    const sync = this.settings.syncInterval;
    if (sync !== 'default' && !this.install.supportsSyncInterval) {
      throw new BusbenchError(
        'CONFIG',
        `nats.syncInterval ${JSON.stringify(sync)}: nats-server ${this.install.version} (${this.install.source}) predates sync_interval (2.10) and refuses to start with it; use "default", or install Go so busbench builds nats-server, or point NATS_SERVER_BIN at a newer one`,
      );
    }
    if (this.nodes.length === 0) await this.plan();
    await this.layer?.mount();
    try {
      await this.launchAll();
    } catch (err) {
      // A free port can be taken between our probe and the server's bind: plan anew once.
      if (!(err instanceof BrokerError) || !/address already in use/i.test(err.logTail)) throw err;
      await this.plan();
      await this.launchAll();
    }
  }

  async stop(): Promise<void> {
    await this.stopNodes();
    await this.layer?.unmount();
  }

  /** kill -9 of every node, or of those `target` names (nats-1..3: nodes n1..n3) */
  async kill(target: FaultTarget = 'all'): Promise<void> {
    const names = nodesOf(target, this.nodeNames());
    await Promise.all(this.nodes.filter((n) => names.includes(faultName(n))).map((n) => n.proc?.kill9()));
  }

  /** The names a kill target can give, in node order: nats-1, nats-2, nats-3. */
  nodeNames(): string[] {
    return this.nodes.length > 0 ? this.nodes.map(faultName) : natsNodeNames(this.topology);
  }

  async dataLayerStats(): Promise<Record<string, number>> {
    return this.layer ? this.layer.stats() : {};
  }

  async settle(): Promise<void> {
    await this.layer?.settle();
  }

  /** SIGKILL of every node at once, then the layer drops what no fsync covered. */
  async powerLoss(mode: PowerLossMode): Promise<PowerCut> {
    if (!this.layer) throw new BrokerError('nats: power loss asked of a server whose data is not on the power-loss layer');
    await this.kill();
    return this.layer.cut(mode);
  }

  /**
   * Same config files: same ports, same store directories. After a kill of some nodes
   * only those start again (the others keep serving); otherwise every node restarts.
   */
  async restart(): Promise<void> {
    if (this.nodes.length === 0) throw new BrokerError('nats: restart before start');
    const down = this.nodes.filter((n) => !n.proc?.running);
    if (down.length > 0 && down.length < this.nodes.length) return this.launch(down);
    await this.stopNodes();
    await this.launchAll();
  }

  private async stopNodes(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.proc?.stop(this.opts.stopGraceMs ?? 10_000)));
  }

  /** The first node whose log since its last (re)start says a stream could not be recovered. */
  serviceProblem(): string | undefined {
    for (const n of this.nodes) {
      const problem = streamNotRestored(readFrom(n.logFile, n.logStart ?? 0));
      if (problem) return this.nodes.length > 1 ? `${problem} [node ${n.name}]` : problem;
    }
    return undefined;
  }

  logTail(lines = 30): string {
    return this.nodes.map((n) => `[nats ${n.name}]\n${n.proc?.logTail(lines) ?? ''}`).join('\n');
  }

  private async plan(): Promise<void> {
    const count = this.topology === 'single' ? 1 : 3;
    const plans: NatsNodePlan[] = [];
    for (let i = 1; i <= count; i++) {
      plans.push({ name: `n${i}`, clientPort: await freePort(), clusterPort: await freePort(), monitorPort: await freePort() });
    }
    const confDir = path.join(this.opts.dir, 'conf');
    fs.mkdirSync(confDir, { recursive: true });
    this.nodes = plans.map((p) => {
      const config = path.join(confDir, `nats-${p.name}.conf`);
      fs.writeFileSync(config, natsServerConfig(p, plans, this.settings));
      return { ...p, config, logFile: path.join(this.opts.dir, 'logs', `nats-${p.name}.log`) };
    });
  }

  private async launchAll(): Promise<void> {
    await this.launch(this.nodes);
  }

  private async launch(nodes: Node[]): Promise<void> {
    const install = this.install!;
    for (const n of nodes) {
      n.logStart = fileSize(n.logFile);
      n.proc = spawnBroker({ name: `nats-${n.name}`, command: install.path, args: ['-c', n.config], logFile: n.logFile });
    }
    await this.waitReady();
  }

  /**
   * Ready = every node's /healthz answers 200. Without `js-enabled-only` the server checks
   * more than that JetStream is on: on a single server that the streams on disk were
   * recovered, in a cluster that the meta group has a leader and this node's streams and
   * consumers are current. A node that exits meanwhile fails the start at once.
   */
  private async waitReady(): Promise<void> {
    const timeoutMs = this.opts.startTimeoutMs ?? 60_000;
    let exited: Node | undefined;
    const healthy = async (n: Node): Promise<boolean> => {
      if (!n.proc?.running) {
        exited ??= n;
        return false;
      }
      try {
        const r = await fetch(`http://127.0.0.1:${n.monitorPort}/healthz`, { signal: AbortSignal.timeout(2000) });
        return r.ok;
      } catch {
        return false;
      }
    };
    // A stream that could not be recovered keeps /healthz failing for good: no point waiting
    let lost: string | undefined;
    const settled = async (): Promise<boolean> => (await Promise.all(this.nodes.map(healthy))).every(Boolean) || exited !== undefined || (lost = this.serviceProblem()) !== undefined;
    const ready = await waitUntil(settled, timeoutMs, 100);
    if (lost) throw new BrokerError(`nats-server started, but ${lost.replace(/^service not restored: /, '')}`, this.logTail(15));
    if (ready && !exited) return;
    const tail = exited ? (exited.proc?.logTail(20) ?? '') : this.logTail(15);
    await this.kill();
    if (exited) throw new BrokerError(`nats-server ${exited.name} exited during start (${exited.logFile})`, tail);
    throw new BrokerError(`nats-server (${TOPOLOGY_TEXT[this.topology]}) not healthy within ${timeoutMs / 1000} s`, tail);
  }
}
