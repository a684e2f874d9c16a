/**
 * A Pulsar cluster run natively by the harness: three ZooKeeper nodes, three bookies and
 * three brokers, nine JVMs on 127.0.0.1, started with the distribution's own launchers
 * (bin/pulsar zookeeper | bookie | broker, and initialize-cluster-metadata once) on
 * configuration files we write into the run folder (cluster-config.ts). Small heaps
 * (CLUSTER_MEMORY): the point is the replication path, not one JVM's peak.
 *
 * Start order: the ZooKeeper ensemble until it has a leader, the cluster metadata (first
 * start only), the bookies, then the brokers; ready once every broker passes its health
 * check (a write and read of its own heartbeat topic), the three bookies are registered,
 * and the `probe` (a client's write and read of a topic through each broker's service
 * URL) answers. Every step is bounded; a step that fails names the component and shows
 * its log's tail. kill(target) takes named nodes (core/fault-target.ts); restart() brings
 * back what is down.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { FaultKind, FaultTarget, PowerCut, PowerLossMode } from '../../core/contract.ts';
import { BrokerError, BusbenchError } from '../../core/errors.ts';
import { nodesOf, targetOf, targetText } from '../../core/fault-target.ts';
import type { BrokerDescription } from '../broker.ts';
import { LossyDataDir, LossyDataDirs, type LayerOptions } from '../common/power-loss.ts';
import { canConnect, freePort, waitUntil } from '../common/ports.ts';
import { fileSize, readFrom, spawnBroker, tailOfFile, type BrokerProcess } from '../common/processes.ts';
import { PulsarAdmin, notReadyReason } from './admin.ts';
import { bookieSettings, brokerSettings, clusterNodeNames, CLUSTER_NAME, CLUSTER_SIZE, DEFAULT_REPLICATION, initializeArgs, zkSettings, type ClusterPorts, type Replication } from './cluster-config.ts';
import { mergeProperties, type ConfValue } from './config.ts';
import type { PulsarDeployment } from './deployment.ts';
import { ensurePulsar, type PulsarInstall } from './install.ts';
import { serviceNotRestored } from './recovery.ts';

export type Role = 'zk' | 'bookie' | 'broker';
const ROLES: readonly Role[] = ['zk', 'bookie', 'broker'];

/** Heaps per role, small on purpose: nine JVMs share the machine with other work. */
export const CLUSTER_MEMORY: Readonly<Record<Role | 'init', string>> = {
  zk: '-Xms64m -Xmx128m',
  bookie: '-Xms256m -Xmx256m -XX:MaxDirectMemorySize=256m',
  broker: '-Xms512m -Xmx512m -XX:MaxDirectMemorySize=256m',
  init: '-Xmx256m',
};
/**
 * G1 for bookies and brokers (ZGC's concurrent threads compete for two cores); ZooKeeper
 * and the one-shot metadata tool run the serial collector and the C1 compiler only, which
 * roughly halves their start-up CPU. No AlwaysPreTouch: nine heaps touched at start
 * would cost seconds of CPU and resident memory nobody uses.
 */
export const CLUSTER_GC: Readonly<Record<Role | 'init', string>> = {
  zk: '-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+PerfDisableSharedMem',
  bookie: '-XX:+UseG1GC -XX:MaxGCPauseMillis=10 -XX:+PerfDisableSharedMem',
  broker: '-XX:+UseG1GC -XX:MaxGCPauseMillis=10 -XX:+ParallelRefProcEnabled -XX:+PerfDisableSharedMem',
  init: '-XX:+UseSerialGC -XX:TieredStopAtLevel=1',
};

/** A client's write and read through one broker's service URL; the adapter supplies it (brokers cannot import the wire client). */
export type TopicProbe = (serviceUrl: string, topic: string) => Promise<void>;

export interface PulsarClusterOptions {
  /** <runDir>/pulsar: conf/, data/, logs/ and tmp/ go under it */
  dir: string;
  log?: (line: string) => void;
  version?: string;
  javaHome?: string;
  journalSync?: boolean;
  deduplication?: boolean;
  transactions?: boolean;
  replication?: Replication;
  /** settings written over ours in broker.conf and bookkeeper.conf alike (as the standalone's one file holds both) */
  config?: Record<string, ConfValue>;
  probe?: TopicProbe;
  /** the whole start, all steps; default 420 s (nine cold JVMs on two busy cores) */
  startTimeoutMs?: number;
  stopGraceMs?: number;
  /** put data/ (every node's) on the power-loss layer, for powerLoss() */
  powerLoss?: LayerOptions | undefined;
  /**
   * which nodes lose power (default all: one layer over data/); one node or a majority:
   * each of those nodes' data/<node> on a layer of its own, the others on plain disk
   */
  powerLossTarget?: FaultTarget | undefined;
}

interface Component {
  /** zk-1, bookie-2, broker-3: the kill targets' names */
  name: string;
  role: Role;
  index: number;
  confFile: string;
  logFile: string;
  logStart: number;
  /** where the log stood when a restart had its ZooKeeper and bookies back: serviceProblem reads from here */
  restoredFrom: number;
  proc?: BrokerProcess;
}

/** BookKeeper 4.17's words for a registration refused at start (BookieImpl.start) */
const BOOKIE_NOT_REGISTERED = /Couldn't register bookie with zookeeper/;
/** ...and the line of a registration that held (Pulsar's metadata driver taking the bookie's lock) */
const BOOKIE_REGISTERED = /Acquired resource lock on \/ledgers\/available\//;

const SUBCOMMAND: Record<Role, string> = { zk: 'zookeeper', bookie: 'bookie', broker: 'broker' };
const CONF_ENV: Record<Role, string> = { zk: 'PULSAR_ZK_CONF', bookie: 'PULSAR_BOOKKEEPER_CONF', broker: 'PULSAR_BROKER_CONF' };
const SHIPPED: Record<Role, string> = { zk: 'zookeeper.conf', bookie: 'bookkeeper.conf', broker: 'broker.conf' };

export class NativePulsarCluster implements PulsarDeployment {
  readonly system = 'pulsar';
  readonly mode = 'native' as const;
  /** each start's and restart's time to ready, ms, and the steps of the last one */
  readonly startupMs: number[] = [];
  readonly steps: Record<string, number> = {};
  installMs = 0;
  private install: PulsarInstall | undefined;
  private ports: ClusterPorts | undefined;
  private components: Component[] = [];
  private deadline = 0;
  /** set by stop(): a restart still under way (the run stopped waiting for it) starts nothing more */
  private stopping = false;
  private readonly layer: LossyDataDirs | undefined;

  constructor(private readonly opts: PulsarClusterOptions) {
    this.layer = opts.powerLoss ? this.layers(opts.powerLoss) : undefined;
  }

  private get powerLossTarget(): FaultTarget {
    return this.opts.powerLossTarget ?? 'all';
  }

  /** data/ on one layer when every node loses power, else each target node's folder on its own. */
  private layers(options: LayerOptions): LossyDataDirs {
    const data = path.join(this.opts.dir, 'data');
    const target = this.powerLossTarget;
    if (target === 'all') return new LossyDataDirs([{ name: '', dir: new LossyDataDir(data, options, this.opts.log) }]);
    return new LossyDataDirs(nodesOf(target, this.nodeNames()).map((name) => ({ name, dir: new LossyDataDir(path.join(data, name), options, this.opts.log) })));
  }

  private get replication(): Replication {
    return this.opts.replication ?? DEFAULT_REPLICATION;
  }

  urls(): string[] {
    return this.started().brokers.map((b) => `pulsar://127.0.0.1:${b.broker}`);
  }

  /** One service URL naming every broker, for clients that fail over between them. */
  serviceUrl(): string {
    return `pulsar://${this.started().brokers.map((b) => `127.0.0.1:${b.broker}`).join(',')}`;
  }

  adminUrl(): string {
    return this.adminUrls()[0]!;
  }

  adminUrls(): string[] {
    return this.started().brokers.map((b) => `http://127.0.0.1:${b.web}`);
  }

  /** zk-1..3, bookie-1..3, broker-1..3 */
  nodeNames(): string[] {
    return clusterNodeNames();
  }

  /** The planned fault in words, for the result (FaultInjector.fault). */
  faultText(kind: FaultKind | undefined): string {
    const target = targetOf(kind);
    if (kind?.type === 'power-loss') {
      if (target === 'all') return `power loss (${kind.mode}) of the whole cluster: kill -9 of all 9 JVMs, then every write no fsync covered is dropped from every node's data, restart on what is left`;
      const names = nodesOf(target, this.nodeNames());
      return `power loss (${kind.mode}) of ${names.join(', ')}: kill -9 of ${names.length === 1 ? 'that JVM' : 'those JVMs'}, then every write no fsync covered is dropped from ${names.length === 1 ? 'its' : 'their'} data while the other ${this.nodeNames().length - names.length} JVMs run on, restart on what is left`;
    }
    if (target === 'all') return 'kill -9 of all 9 JVMs (ZooKeeper, bookies, brokers), restart on the same data (page cache survives)';
    const names = nodesOf(target, this.nodeNames());
    return `kill -9 of ${names.join(', ')}${target === 'majority' ? ' (a majority of every role)' : ''} while the other ${this.nodeNames().length - names.length} JVMs run on, restart of ${names.length === 1 ? 'it' : 'them'} on the same data`;
  }

  processes(): Array<{ name: string; pid: number }> {
    return this.components.flatMap((c) => (c.proc?.running ? [{ name: `pulsar ${c.name}`, pid: c.proc.pid }] : []));
  }

  describe(): BrokerDescription {
    const r = this.replication;
    return {
      system: this.system,
      mode: this.mode,
      version: this.install?.version ?? this.opts.version ?? 'unknown',
      source: this.install?.source ?? 'not installed yet',
      topology: `cluster: ${CLUSTER_SIZE} ZooKeeper + ${CLUSTER_SIZE} bookies + ${CLUSTER_SIZE} brokers, one JVM each, on 127.0.0.1`,
      urls: this.ports ? this.urls() : [],
      adminUrl: this.ports ? this.adminUrl() : null,
      java: this.install ? `${this.install.java.label} at ${this.install.javaHome}` : null,
      metadataStore: 'ZooKeeper (the distribution ships no Oxia server)',
      replication: `ensemble ${r.ensembleSize}, write quorum ${r.writeQuorum}, ack quorum ${r.ackQuorum}`,
      journalSyncData: this.opts.journalSync ?? true,
      deduplication: this.opts.deduplication ?? true,
      transactions: this.opts.transactions ?? true,
      jvmMemory: { ...CLUSTER_MEMORY },
      jvmGc: { ...CLUSTER_GC },
      configOverrides: this.opts.config ?? {},
      dir: this.opts.dir,
      installMs: this.installMs,
      startupMs: [...this.startupMs],
      startupSteps: { ...this.steps },
      ...(this.layer ? { dataLayer: `power-loss layer over ${this.layer.describe()}` } : {}),
    };
  }

  async start(): Promise<void> {
    if (this.components.some((c) => c.proc?.running)) return;
    this.stopping = false;
    const log = this.opts.log ?? (() => undefined);
    const t0 = Date.now();
    this.install ??= await ensurePulsar(log, { version: this.opts.version, javaHome: this.opts.javaHome });
    this.installMs = Date.now() - t0;
    log(`pulsar cluster: ${this.install.version} install ready in ${(this.installMs / 1000).toFixed(1)} s (${this.install.home})`);
    this.ports ??= await allocatePorts();
    await this.layer?.mount();
    this.writeConfigs(this.install, this.ports);
    await this.bringUp(this.components, true);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.stopAll();
    await this.layer?.unmount();
  }

  /** kill -9 of `target`'s processes (default all), each with its process group. */
  async kill(target: FaultTarget = 'all'): Promise<void> {
    const names = nodesOf(target, this.nodeNames());
    if (names.length === 0) throw new BusbenchError('CONFIG', `pulsar cluster: no node ${targetText(target)} (nodes: ${this.nodeNames().join(', ')})`);
    await Promise.all(this.components.filter((c) => names.includes(c.name)).map((c) => killComponent(c)));
  }

  async settle(): Promise<void> {
    await this.layer?.settle();
  }

  async dataLayerStats(): Promise<Record<string, number>> {
    return this.layer ? this.layer.stats() : {};
  }

  /** SIGKILL of the target's JVMs (all nine by default), then the layers drop what no fsync covered on them. */
  async powerLoss(mode: PowerLossMode): Promise<PowerCut> {
    if (!this.layer) throw new BusbenchError('BROKER', 'pulsar cluster: power loss asked of a cluster whose data is not on the power-loss layer');
    await this.kill(this.powerLossTarget);
    return this.layer.cut(mode);
  }

  /** What is down starts again on its own data (all of it after a kill of all); with nothing down, a full restart. */
  async restart(): Promise<void> {
    if (!this.install || !this.ports) throw new BusbenchError('BROKER', 'pulsar cluster: restart before the first start');
    let down = this.components.filter((c) => !c.proc?.running);
    if (down.length === 0) {
      await this.stopAll();
      down = this.components;
    }
    await this.bringUp(down, false);
  }

  logTail(lines = 30): string {
    return this.components.map((c) => `[pulsar ${c.name}]\n${tailLines(c.logFile, lines)}`).join('\n');
  }

  /** The first node whose log since the bookies were back says a ledger could not be recovered (clusterServiceProblem). */
  serviceProblem(): string | undefined {
    return clusterServiceProblem(this.components.map((c) => ({ name: c.name, logFile: c.logFile, from: Math.max(c.logStart, c.restoredFrom) })));
  }

  private started(): ClusterPorts {
    if (!this.ports) throw new BusbenchError('BROKER', 'pulsar cluster: urls are known only once it has started');
    return this.ports;
  }

  private async stopAll(): Promise<void> {
    // brokers first, so they close their ledgers while bookies and ZooKeeper still answer
    for (const role of [...ROLES].reverse()) {
      await Promise.all(this.components.filter((c) => c.role === role).map(async (c) => {
        await c.proc?.stop(this.opts.stopGraceMs ?? 30_000);
        if (c.proc) killGroup(c.proc);
      }));
    }
  }

  /** Starts `which` (role by role) and waits until the whole cluster is ready; on failure kills every node. */
  private async bringUp(which: Component[], first: boolean): Promise<void> {
    const log = this.opts.log ?? (() => undefined);
    const t0 = Date.now();
    this.deadline = t0 + (this.opts.startTimeoutMs ?? 420_000);
    try {
      for (const role of ROLES) {
        const group = which.filter((c) => c.role === role);
        if (first && role === 'bookie') await this.step('metadata', () => this.initializeMetadata());
        if (group.length === 0) continue;
        // Three new bookies at once race to create the under-replication layout in ZooKeeper
        // and the losers exit ("BadVersion for /ledgers/underreplication/LAYOUT"): on the
        // first start one bookie goes first.
        const lead = first && role === 'bookie' ? group.slice(0, 1) : [];
        await this.step(role, async () => {
          for (const c of lead) this.spawn(c);
          if (lead.length > 0) await this.awaitRole(role, lead);
          for (const c of group.slice(lead.length)) this.spawn(c);
          await this.awaitRole(role, group);
        });
        // ZooKeeper and the bookies are back: what the brokers failed to recover before was the outage
        if (!first && role === 'bookie') for (const c of this.components) c.restoredFrom = fileSize(c.logFile);
      }
      await this.step('probe', () => this.awaitService());
    } catch (err) {
      await Promise.all(this.components.map((c) => killComponent(c)));
      throw err;
    }
    const ms = Date.now() - t0;
    this.startupMs.push(ms);
    const steps = Object.entries(this.steps).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ');
    log(`pulsar cluster: ${which.length === this.components.length ? 'all 9 nodes' : which.map((c) => c.name).join(', ')} ready in ${(ms / 1000).toFixed(1)} s (${steps})`);
  }

  private async step(name: string, f: () => Promise<void>): Promise<void> {
    const t = Date.now();
    await f();
    this.steps[name] = Date.now() - t;
  }

  private remainingMs(): number {
    return Math.max(1_000, this.deadline - Date.now());
  }

  /** Polls `ready` for every node of `group`; a node that exits or stays unready fails the start with its log. */
  private async awaitRole(role: Role, group: Component[]): Promise<void> {
    const why = new Map<string, string>();
    const check = async (c: Component): Promise<boolean> => {
      this.refuseIfStopping();
      if (!c.proc?.running) throw new BrokerError(`pulsar ${c.name} exited with code ${String(await c.proc?.exited)} while starting (${c.logFile})`, tailLines(c.logFile, 30));
      if (c.role === 'bookie' && BOOKIE_NOT_REGISTERED.test(readFrom(c.logFile, c.logStart))) {
        await this.respawnBookie(c);
        why.set(c.name, 'registration refused, starting it again');
        return false;
      }
      const reason = await this.notReady(c);
      why.set(c.name, reason);
      return reason === '';
    };
    const timeoutMs = this.remainingMs();
    const ok = await waitUntil(async () => (await Promise.all(group.map(check))).every(Boolean), timeoutMs, 500);
    if (ok) return;
    const late = group.find((c) => why.get(c.name) !== '') ?? group[0]!;
    throw new BrokerError(`pulsar ${late.name} (${role}) not ready within ${(timeoutMs / 1000).toFixed(0)} s: ${why.get(late.name) ?? 'not checked'}`, tailLines(late.logFile, 30));
  }

  /**
   * A bookie restarted soon after a kill -9 finds its registration still held by the dead
   * process's ZooKeeper session (until that session times out, zkTimeout 30 s), gives up
   * ("Couldn't register bookie with zookeeper, shutting down") and serves nothing while its
   * JVM lives on. A supervisor would start it again; so does this, after a pause.
   */
  private async respawnBookie(c: Component): Promise<void> {
    (this.opts.log ?? (() => undefined))(`pulsar cluster: ${c.name} could not register (its previous ZooKeeper session still holds its registration); starting it again in 2 s`);
    await killComponent(c);
    await new Promise((r) => setTimeout(r, 2_000));
    this.spawn(c);
  }

  /** '' when the node serves, else why not. */
  private async notReady(c: Component): Promise<string> {
    const ports = this.started();
    if (c.role === 'zk') return zkMode(ports.zk[c.index]!.client);
    if (c.role === 'bookie') {
      if (!(await canConnect(ports.bookies[c.index]!.bookie))) return `bookie port ${ports.bookies[c.index]!.bookie} not accepting connections`;
      // the port opens before the bookie registers: serving means registered
      return BOOKIE_REGISTERED.test(readFrom(c.logFile, c.logStart)) ? '' : 'not registered with the metadata store yet';
    }
    const b = ports.brokers[c.index]!;
    if (!(await canConnect(b.broker))) return `binary port ${b.broker} not accepting connections`;
    return notReadyReason(new PulsarAdmin(`http://127.0.0.1:${b.web}`, 5_000), { cluster: CLUSTER_NAME, transactions: this.opts.transactions ?? true });
  }

  /** Every bookie registered, seen by every broker; then the probe through each broker. */
  private async awaitService(): Promise<void> {
    const admins = this.adminUrls().map((u) => new PulsarAdmin(u, 5_000));
    let reason = '';
    const ok = await waitUntil(
      async () => {
        this.refuseIfStopping();
        for (const [i, admin] of admins.entries()) {
          const n = await registeredBookies(admin);
          if (n < CLUSTER_SIZE) {
            reason = `broker-${i + 1} sees ${n} of ${CLUSTER_SIZE} bookies registered`;
            return false;
          }
        }
        return true;
      },
      this.remainingMs(),
      500,
    );
    if (!ok) throw new BrokerError(`pulsar cluster not ready: ${reason}`, this.components.filter((c) => c.role === 'bookie').map((c) => `[${c.name}]\n${tailLines(c.logFile, 10)}`).join('\n'));
    const probe = this.opts.probe;
    if (!probe) return;
    for (const [i, url] of this.urls().entries()) {
      const c = this.components.find((x) => x.name === `broker-${i + 1}`)!;
      await withTimeout(probe(url, `persistent://public/default/busbench-ready-${i + 1}`), this.remainingMs(), `pulsar ${c.name}: a write and read of a topic through ${url}`).catch((err: Error) => {
        throw new BrokerError(`pulsar cluster not ready: ${err.message}`, tailLines(c.logFile, 30));
      });
    }
  }

  /** initialize-cluster-metadata, once per cluster: ZooKeeper keeps it across restarts. */
  private async initializeMetadata(): Promise<void> {
    const marker = path.join(this.opts.dir, 'data', 'metadata-initialized');
    if (fs.existsSync(marker)) return;
    const logFile = path.join(this.opts.dir, 'logs', 'initialize-cluster-metadata.log');
    const proc = spawnBroker({ name: 'pulsar-init', command: this.launcher(), args: initializeArgs(this.started()), cwd: this.install!.home, env: this.childEnv('init', 'initialize-cluster-metadata.log'), logFile });
    const timeoutMs = this.remainingMs();
    const code = await withTimeout(proc.exited, timeoutMs, 'pulsar initialize-cluster-metadata').catch(async (err: Error) => {
      killGroup(proc);
      await proc.exited;
      throw new BrokerError(err.message, tailLines(logFile, 30));
    });
    if (code !== 0) throw new BrokerError(`pulsar initialize-cluster-metadata exited with code ${String(code)} (${logFile})`, tailLines(logFile, 30));
    fs.writeFileSync(marker, `${new Date().toISOString()}\n`);
  }

  private refuseIfStopping(): void {
    if (this.stopping) throw new BrokerError('pulsar cluster: stopped while nodes were starting');
  }

  private spawn(c: Component): void {
    this.refuseIfStopping();
    c.logStart = fileSize(c.logFile);
    c.proc = spawnBroker({
      name: `pulsar-${c.name}`,
      command: this.launcher(),
      args: [SUBCOMMAND[c.role]],
      cwd: this.install!.home,
      env: { ...this.childEnv(c.role, `${c.name}.log`), [CONF_ENV[c.role]]: c.confFile },
      logFile: c.logFile,
    });
  }

  private launcher(): string {
    return path.join(this.install!.home, 'bin', 'pulsar');
  }

  private childEnv(role: Role | 'init', logName: string): NodeJS.ProcessEnv {
    // A user's own PULSAR_* / BOOKIE_* settings must not change what is measured.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PULSAR_') && !k.startsWith('BOOKIE_')));
    const tmp = path.join(this.opts.dir, 'tmp');
    const extra = `-Dpulsar.allocator.exit_on_oom=true -Dio.netty.recycler.maxCapacityPerThread=4096 -Djava.io.tmpdir=${tmp}`;
    return {
      ...env,
      JAVA_HOME: this.install!.javaHome,
      PULSAR_MEM: CLUSTER_MEMORY[role],
      PULSAR_GC: CLUSTER_GC[role],
      // bin/pulsar bookie reads the BOOKIE_ variables (bkenv.sh) rather than PULSAR_MEM/GC
      BOOKIE_MEM: CLUSTER_MEMORY[role],
      BOOKIE_GC: CLUSTER_GC[role],
      PULSAR_EXTRA_OPTS: extra,
      BOOKIE_EXTRA_OPTS: `-Dio.netty.leakDetection.level=disabled ${extra}`,
      PULSAR_LOG_DIR: path.join(this.opts.dir, 'logs'),
      PULSAR_LOG_FILE: logName,
      PULSAR_LOG_IMMEDIATE_FLUSH: 'true',
    };
  }

  /** Folders, myid files and the nine configuration files, the shipped ones with ours over them. */
  private writeConfigs(install: PulsarInstall, ports: ClusterPorts): void {
    const dir = this.opts.dir;
    const data = path.join(dir, 'data');
    for (const d of ['conf', 'logs', 'tmp']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    const shipped = Object.fromEntries(ROLES.map((r) => [r, fs.readFileSync(path.join(install.home, 'conf', SHIPPED[r]), 'utf8')])) as Record<Role, string>;
    const ours = { ...(this.opts.config ?? {}) };
    this.components = this.nodeNames().map((name) => {
      const role = name.split('-')[0] as Role;
      const index = Number(name.split('-')[1]) - 1;
      const own = path.join(data, name);
      fs.mkdirSync(own, { recursive: true });
      let settings: Record<string, ConfValue>;
      if (role === 'zk') {
        fs.writeFileSync(path.join(own, 'myid'), `${index + 1}\n`);
        settings = zkSettings(index, ports, own);
      } else if (role === 'bookie') {
        settings = { ...bookieSettings({ ports, index, journalDir: path.join(own, 'journal'), ledgersDir: path.join(own, 'ledgers'), journalSync: this.opts.journalSync ?? true }), ...ours };
      } else {
        settings = { ...brokerSettings({ ports, index, replication: this.replication, deduplication: this.opts.deduplication ?? true, transactions: this.opts.transactions ?? true, narDir: path.join(dir, 'tmp') }), ...ours };
      }
      const confFile = path.join(dir, 'conf', `${name}.conf`);
      fs.writeFileSync(confFile, mergeProperties(shipped[role], settings));
      const existing = this.components.find((c) => c.name === name);
      return { name, role, index, confFile, logFile: path.join(dir, 'logs', `${name}.log`), logStart: 0, restoredFrom: 0, ...(existing?.proc ? { proc: existing.proc } : {}) };
    });
  }
}

/**
 * "service not restored" from the nodes' logs since the restart had ZooKeeper and every
 * bookie back (each node's `from`), or undefined. While a majority of the bookies is down
 * a broker that runs on takes over the killed brokers' topics and cannot recover their
 * open ledgers ("While readLastConfirmed ledger: 15 did not hear success responses from
 * all quorums", then "Failed to open ledger 15"), every half second until the bookies are
 * back: that is the outage, not a lost ledger, and the topic loads once they are. A
 * ledger that stays lost fails on the loads after that: the restarted brokers' first ones
 * come while the cluster is not yet ready (a client's reconnect), so the judgement starts
 * at the bookies, not at the cluster's readiness.
 */
export function clusterServiceProblem(logs: ReadonlyArray<{ name: string; logFile: string; from: number }>): string | undefined {
  for (const { name, logFile, from } of logs) {
    const problem = serviceNotRestored(readFrom(logFile, from));
    if (problem) return `${problem} [${name}]`;
  }
  return undefined;
}

/** Twenty-four free ports, no two alike. */
async function allocatePorts(): Promise<ClusterPorts> {
  const taken = new Set<number>();
  const next = async (): Promise<number> => {
    for (;;) {
      const p = await freePort();
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
  const zk = [];
  const bookies = [];
  const brokers = [];
  for (let i = 0; i < CLUSTER_SIZE; i++) {
    zk.push({ client: await next(), peer: await next(), election: await next(), metrics: await next() });
    bookies.push({ bookie: await next(), metrics: await next() });
    brokers.push({ broker: await next(), web: await next() });
  }
  return { zk, bookies, brokers };
}

/** '' once the node is a leader or follower of a quorum (ZooKeeper's `srvr` four-letter word), else why not. */
function zkMode(port: number): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const sock = net.connect({ port, host: '127.0.0.1' });
    const done = (why: string): void => {
      sock.destroy();
      resolve(why);
    };
    sock.setTimeout(2_000, () => done(`ZooKeeper on ${port}: no answer to srvr`));
    sock.once('connect', () => sock.write('srvr'));
    sock.on('data', (d) => (text += d.toString('utf8')));
    sock.once('error', (e) => done(`ZooKeeper on ${port}: ${e.message}`));
    sock.once('end', () => {
      const mode = /Mode: (\w+)/.exec(text)?.[1];
      done(mode === 'leader' || mode === 'follower' ? '' : `ZooKeeper on ${port}: ${mode ? `mode ${mode}` : (text.trim().split('\n')[0] ?? 'no quorum yet')}`);
    });
  });
}

async function registeredBookies(admin: PulsarAdmin): Promise<number> {
  try {
    const all = (await admin.call('GET', '/admin/v2/bookies/all')) as { bookies?: unknown[] } | undefined;
    return all?.bookies?.length ?? 0;
  } catch {
    return 0;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${(ms / 1000).toFixed(0)} s`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

async function killComponent(c: Component): Promise<void> {
  const proc = c.proc;
  if (!proc?.running) return;
  killGroup(proc);
  await proc.exited;
}

/** SIGKILL to the node's whole process group (bin/pulsar execs java, but a shell may still be there). */
function killGroup(proc: BrokerProcess): void {
  try {
    process.kill(-proc.pid, 'SIGKILL');
  } catch {
    /* group already gone */
  }
}

/** The last lines of a log, each cut short: Pulsar logs its whole configuration on one line. */
function tailLines(file: string, lines: number): string {
  return tailOfFile(file, lines)
    .split('\n')
    .map((l) => (l.length > 400 ? `${l.slice(0, 400)} …` : l))
    .join('\n');
}
