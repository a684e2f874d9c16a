/**
 * Apache Pulsar run natively by the harness: `bin/pulsar standalone`, one JVM holding a
 * broker, one bookie and a RocksDB metadata store, with functions worker and stream
 * storage off. Everything binds 127.0.0.1 on free ports, and config, data and logs live in
 * the folder the caller gives (the run folder), so runs never share state or ports.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PowerCut, PowerLossMode } from '../../core/contract.ts';
import { LossyDataDir, type LayerOptions } from '../common/power-loss.ts';
import type { BrokerDescription } from '../broker.ts';
import type { PulsarDeployment } from './deployment.ts';
import { BrokerError, BusbenchError } from '../../core/errors.ts';
import { PulsarAdmin, notReadyReason } from './admin.ts';
import { canConnect, freePort, waitUntil } from '../common/ports.ts';
import { fileSize, readFrom, spawnBroker, tailOfFile, type BrokerProcess } from '../common/processes.ts';
import { mergeProperties, standaloneSettings, type ConfValue } from './config.ts';
import { ensurePulsar, type PulsarInstall } from './install.ts';
import { serviceNotRestored } from './recovery.ts';

export interface PulsarNativeOptions {
  /** folder for this broker's config, data and logs, e.g. <runDir>/pulsar */
  dir: string;
  /** progress lines (install, start, ready) */
  log?: (line: string) => void;
  /** default PULSAR_VERSION (4.0.8) */
  version?: string;
  /** JDK to run with; default: see findPulsarJava */
  javaHome?: string;
  /** fsync the bookie journal before acknowledging (BookKeeper journalSyncData); default true */
  journalSync?: boolean;
  /** brokerDeduplicationEnabled; default true */
  deduplication?: boolean;
  /** transactionCoordinatorEnabled; default true */
  transactions?: boolean;
  /** PULSAR_MEM; default DEFAULT_JVM_MEMORY */
  jvmMemory?: string;
  /** PULSAR_GC; default DEFAULT_JVM_GC */
  jvmGc?: string;
  /** standalone.conf settings applied after ours, e.g. { managedLedgerMaxEntriesPerLedger: 1000 } */
  config?: Record<string, ConfValue>;
  /** default 180 s: a cold JVM start on two busy cores */
  startTimeoutMs?: number;
  /** SIGTERM grace before SIGKILL on stop; default 30 s */
  stopGraceMs?: number;
  /** put data/ (bookie journal and ledgers, metadata store) on the power-loss layer, for powerLoss() */
  powerLoss?: LayerOptions | undefined;
}

/**
 * Fixed heap (no resizing pauses mid-run) that leaves most of a 24 GiB machine to the
 * other systems; direct memory holds the bookie's write/read caches and the broker's
 * entry cache (each a fraction of it).
 */
export const DEFAULT_JVM_MEMORY = '-Xms2g -Xmx2g -XX:MaxDirectMemorySize=2g';
/**
 * G1 rather than Pulsar's default ZGC: on two cores ZGC's concurrent threads compete with
 * the broker for CPU. Pre-touching the heap keeps page faults out of the measured latency.
 */
export const DEFAULT_JVM_GC = '-XX:+UseG1GC -XX:MaxGCPauseMillis=10 -XX:+ParallelRefProcEnabled -XX:+PerfDisableSharedMem -XX:+AlwaysPreTouch';

const CLUSTER = 'standalone';

interface Ports {
  broker: number;
  web: number;
  bookie: number;
}

/** Where one broker's files live inside its folder. */
interface Layout {
  confFile: string;
  bookie: string;
  metadata: string;
  logs: string;
  tmp: string;
}

export class NativePulsar implements PulsarDeployment {
  readonly system = 'pulsar';
  readonly mode = 'native' as const;
  private install: PulsarInstall | undefined;
  private ports: Ports | undefined;
  private proc: BrokerProcess | undefined;
  private readonly logFile: string;
  /** where the log stood when the JVM last started: what it wrote since is this start's */
  private logStart = 0;
  /** milliseconds from spawn to ready, for each start (first start, then restarts) */
  readonly startupMs: number[] = [];

  private readonly layer: LossyDataDir | undefined;

  constructor(private readonly opts: PulsarNativeOptions) {
    this.logFile = path.join(opts.dir, 'logs', 'pulsar.log');
    this.layer = opts.powerLoss ? new LossyDataDir(path.join(opts.dir, 'data'), opts.powerLoss, opts.log) : undefined;
  }

  urls(): string[] {
    return [`pulsar://127.0.0.1:${this.started().broker}`];
  }

  adminUrl(): string {
    return `http://127.0.0.1:${this.started().web}`;
  }

  /** pid of the broker JVM while it runs (bin/pulsar execs java, so it is the spawned pid) */
  get pid(): number | undefined {
    return this.proc?.running ? this.proc.pid : undefined;
  }

  processes(): Array<{ name: string; pid: number }> {
    const pid = this.pid;
    return pid === undefined ? [] : [{ name: 'pulsar standalone', pid }];
  }

  describe(): BrokerDescription {
    const o = this.settings();
    return {
      system: this.system,
      mode: this.mode,
      version: this.install?.version ?? this.opts.version ?? 'unknown',
      source: this.install?.source ?? 'not installed yet',
      topology: 'standalone: 1 broker + 1 bookie + RocksDB metadata store in one JVM',
      urls: this.ports ? this.urls() : [],
      adminUrl: this.ports ? this.adminUrl() : null,
      java: this.install ? `${this.install.java.label} at ${this.install.javaHome}` : null,
      journalSyncData: o.journalSync,
      deduplication: o.deduplication,
      transactions: o.transactions,
      jvmMemory: o.jvmMemory,
      jvmGc: o.jvmGc,
      configOverrides: this.opts.config ?? {},
      // What busbench wrote over the shipped standalone.conf (ports once started), so a
      // reader sees every setting that differs from the distribution's.
      standaloneConf: this.ports ? this.confSettings(this.ports) : {},
      dir: this.opts.dir,
      startupMs: [...this.startupMs],
      fault: this.layer
        ? 'power loss of the standalone JVM: kill -9 of broker, bookie and metadata store together, then every write no fsync covered is dropped from data/'
        : 'kill -9 of the standalone JVM: broker, bookie and metadata store die together; the page cache survives',
      ...(this.layer ? { dataLayer: `power-loss layer over ${this.layer.backing}` } : {}),
    };
  }

  async start(): Promise<void> {
    if (this.proc?.running) return;
    await this.layer?.mount();
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.stopProcess();
    await this.layer?.unmount();
  }

  async settle(): Promise<void> {
    await this.layer?.settle();
  }

  /** SIGKILL of the JVM, then the layer drops what no fsync covered; restart() comes next. */
  async powerLoss(mode: PowerLossMode): Promise<PowerCut> {
    if (!this.layer) throw new BusbenchError('BROKER', 'pulsar: power loss asked of a standalone whose data is not on the power-loss layer');
    await this.kill();
    return this.layer.cut(mode);
  }

  private async stopProcess(): Promise<void> {
    const proc = this.proc;
    if (!proc?.running) return;
    await proc.stop(this.opts.stopGraceMs ?? 30_000);
    killGroup(proc);
  }

  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc?.running) return;
    killGroup(proc);
    await proc.exited;
  }

  async restart(): Promise<void> {
    if (!this.ports) throw new BusbenchError('BROKER', 'pulsar: restart before the first start');
    await this.stopProcess();
    await this.launch();
  }

  logTail(lines = 30): string {
    return tailLines(this.logFile, lines);
  }

  /**
   * "service not restored: ledger N could not be recovered (<log line>)" when the log
   * written since the last (re)start says a ledger failed recovery; undefined otherwise.
   */
  serviceProblem(): string | undefined {
    return serviceNotRestored(readFrom(this.logFile, this.logStart));
  }

  private settings(): Required<Pick<PulsarNativeOptions, 'journalSync' | 'deduplication' | 'transactions' | 'jvmMemory' | 'jvmGc'>> {
    return {
      journalSync: this.opts.journalSync ?? true,
      deduplication: this.opts.deduplication ?? true,
      transactions: this.opts.transactions ?? true,
      jvmMemory: this.opts.jvmMemory ?? DEFAULT_JVM_MEMORY,
      jvmGc: this.opts.jvmGc ?? DEFAULT_JVM_GC,
    };
  }

  private started(): Ports {
    if (!this.ports) throw new BusbenchError('BROKER', 'pulsar: urls are known only once the broker has started');
    return this.ports;
  }

  /** Starts the JVM (first start or restart: same ports, same folders) and waits until ready. */
  private async launch(): Promise<void> {
    const log = this.opts.log ?? (() => undefined);
    this.install ??= await ensurePulsar(log, { version: this.opts.version, javaHome: this.opts.javaHome });
    this.ports ??= await allocatePorts();
    const install = this.install;
    const ports = this.ports;
    const layout = this.writeConfig(install, ports);

    this.logStart = fileSize(this.logFile);
    const t0 = Date.now();
    log(`pulsar: starting ${install.version} standalone on Java ${install.java.major} (broker :${ports.broker}, admin :${ports.web}, bookie :${ports.bookie})`);
    const proc = spawnBroker({
      name: 'pulsar',
      command: path.join(install.home, 'bin', 'pulsar'),
      args: [
        'standalone',
        '--no-functions-worker',
        '--no-stream-storage',
        '--config',
        layout.confFile,
        '--bookkeeper-dir',
        layout.bookie,
        '--bookkeeper-port',
        String(ports.bookie),
        '--metadata-dir',
        layout.metadata,
        // Standalone falls back to ZooKeeper on port 2181 when this folder exists; pointing
        // it into our (ZooKeeper-free) run folder keeps the RocksDB metadata store.
        '--zookeeper-dir',
        path.join(this.opts.dir, 'data', 'zookeeper-unused'),
      ],
      cwd: install.home,
      env: this.childEnv(install, layout),
      logFile: this.logFile,
    });
    this.proc = proc;
    await this.awaitReady(proc, ports);
    const ms = Date.now() - t0;
    this.startupMs.push(ms);
    log(`pulsar: ready in ${(ms / 1000).toFixed(1)} s at ${this.urls()[0]} (admin ${this.adminUrl()})`);
  }

  /** Creates the run folder's layout and writes standalone.conf into it. */
  private writeConfig(install: PulsarInstall, ports: Ports): Layout {
    const layout = this.layout();
    for (const d of [path.dirname(layout.confFile), layout.bookie, layout.metadata, layout.logs, layout.tmp]) fs.mkdirSync(d, { recursive: true });
    const shipped = fs.readFileSync(path.join(install.home, 'conf', 'standalone.conf'), 'utf8');
    fs.writeFileSync(layout.confFile, mergeProperties(shipped, this.confSettings(ports)));
    return layout;
  }

  private layout(): Layout {
    return {
      confFile: path.join(this.opts.dir, 'conf', 'standalone.conf'),
      bookie: path.join(this.opts.dir, 'data', 'bookkeeper'),
      metadata: path.join(this.opts.dir, 'data', 'metadata'),
      logs: path.join(this.opts.dir, 'logs'),
      tmp: path.join(this.opts.dir, 'tmp'),
    };
  }

  /** Ours, then the caller's `config` over them. */
  private confSettings(ports: Ports): Record<string, ConfValue> {
    const o = this.settings();
    const ours = standaloneSettings({
      brokerPort: ports.broker,
      webPort: ports.web,
      journalSync: o.journalSync,
      deduplication: o.deduplication,
      transactions: o.transactions,
      narDir: this.layout().tmp,
    });
    return { ...ours, ...this.opts.config };
  }

  /** Waits until clients can use the broker; on exit or timeout kills it and throws with the log tail. */
  private async awaitReady(proc: BrokerProcess, ports: Ports): Promise<void> {
    const admin = new PulsarAdmin(this.adminUrl(), 5_000);
    const timeoutMs = this.opts.startTimeoutMs ?? 180_000;
    const transactions = this.settings().transactions;
    let reason = 'not started';
    let ready = false;
    try {
      ready = await waitUntil(
        async () => {
          if (!proc.running) throw new BrokerError(`pulsar exited with code ${String(await proc.exited)} while starting`, this.logTail());
          if (!(await canConnect(ports.broker))) {
            reason = `binary port ${ports.broker} not accepting connections`;
            return false;
          }
          reason = await notReadyReason(admin, { cluster: CLUSTER, transactions });
          return reason === '';
        },
        timeoutMs,
        500,
      );
    } finally {
      if (!ready) {
        killGroup(proc);
        await proc.exited;
      }
    }
    if (!ready) throw new BrokerError(`pulsar not ready after ${timeoutMs / 1000} s: ${reason}`, this.logTail());
  }

  private childEnv(install: PulsarInstall, layout: Layout): NodeJS.ProcessEnv {
    const o = this.settings();
    // A user's own PULSAR_* / BOOKIE_* settings must not change what is measured.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PULSAR_') && !k.startsWith('BOOKIE_')));
    return {
      ...env,
      JAVA_HOME: install.javaHome,
      PULSAR_MEM: o.jvmMemory,
      PULSAR_GC: o.jvmGc,
      PULSAR_LOG_DIR: layout.logs,
      // Setting this replaces pulsar_env.sh's default, so its two flags are repeated;
      // the JVM's temp dir (unpacked native libraries) goes into the run folder too.
      PULSAR_EXTRA_OPTS: `-Dpulsar.allocator.exit_on_oom=true -Dio.netty.recycler.maxCapacityPerThread=4096 -Djava.io.tmpdir=${layout.tmp}`,
      PULSAR_STANDALONE_CONF: layout.confFile,
      // The log is what a failed start shows; after kill -9 it must hold the last lines.
      PULSAR_LOG_IMMEDIATE_FLUSH: 'true',
    };
  }
}

/** Three free ports, no two alike (the kernel may hand a just-released port out again). */
async function allocatePorts(): Promise<Ports> {
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort());
  const [broker = 0, web = 0, bookie = 0] = ports;
  return { broker, web, bookie };
}

/**
 * SIGKILL to the broker's whole process group (spawnBroker makes it a group leader):
 * the JVM plus anything bin/pulsar may still be running before it execs java.
 */
function killGroup(proc: BrokerProcess): void {
  try {
    process.kill(-proc.pid, 'SIGKILL');
  } catch {
    /* group already gone */
  }
}


/** The last lines of the log, each cut short: Pulsar logs its whole configuration on one line. */
function tailLines(file: string, lines: number): string {
  return tailOfFile(file, lines)
    .split('\n')
    .map((l) => (l.length > 400 ? `${l.slice(0, 400)} …` : l))
    .join('\n');
}
