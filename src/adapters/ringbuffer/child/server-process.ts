/**
 * The ring server as a broker process of the harness: started through spawnBroker (pid
 * file, orphan reaping, SIGKILL of stragglers on exit, log file), on a free port of
 * 127.0.0.1 picked at the first start and kept for restarts, so clients reconnect to the
 * same address after a kill -9.
 *
 * It runs TypeScript through tsx's loader in the server's own Node process, not the tsx
 * CLI: the CLI would start Node as a grandchild, and kill -9 of the CLI would leave the
 * real server running.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BrokerError } from '../../../core/errors.ts';
import { spawnBroker, type BrokerProcess } from '../../../brokers/common/processes.ts';
import { canConnect, freePort, waitUntil } from '../../../brokers/common/ports.ts';
import type { ServerConfig } from '../server/config.ts';

const ENTRY = fileURLToPath(new URL('../server/main.ts', import.meta.url));
const START_TIMEOUT_MS = 30_000;

function tsxLoader(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}

export type ServerSettings = Omit<ServerConfig, 'port' | 'host' | 'parentPid'>;

export class RingServerProcess {
  readonly host = '127.0.0.1';
  private port = 0;
  private proc: BrokerProcess | undefined;
  /** the harness itself stopped or killed it; any other exit is a crash */
  private expectExit = false;
  private crash: BrokerError | undefined;

  constructor(
    private readonly settings: ServerSettings,
    private readonly logFile: string,
    /** replicas: 2 picks every port up front, since clients must know both servers' */
    private readonly fixedPort = 0,
  ) {}

  get running(): boolean {
    return this.proc?.running ?? false;
  }

  /** replicas: 2: what the next launch starts as (the other may have taken over meanwhile) */
  setRole(role: 'primary' | 'secondary'): void {
    if (this.settings.replica) this.settings.replica = { ...this.settings.replica, role };
  }

  get address(): { host: string; port: number } {
    return { host: this.host, port: this.port };
  }

  get pid(): number {
    return this.proc?.pid ?? -1;
  }

  /**
   * Why the server died by itself, waiting up to `ms` for its exit to be noticed: a
   * refused connection often arrives before the exit status.
   */
  async crashedWithin(ms: number): Promise<BrokerError | undefined> {
    const proc = this.proc;
    if (this.crash || !proc?.running) return this.crash;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([proc.exited, new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
    // let the exit handler that records the crash run first
    await new Promise((r) => setImmediate(r));
    return this.crash;
  }

  async start(): Promise<void> {
    if (this.fixedPort) {
      this.port = this.fixedPort;
      return this.launch();
    }
    this.port = await freePort();
    try {
      await this.launch();
    } catch (err) {
      // The port can be taken between the probe and the server's bind: pick another once.
      if (!(err instanceof BrokerError) || !/EADDRINUSE/.test(err.logTail)) throw err;
      this.port = await freePort();
      await this.launch();
    }
  }

  /** kill -9, and wait until the process is gone. */
  async kill(): Promise<void> {
    this.expectExit = true;
    await this.proc?.kill9();
  }

  get pids(): Array<{ name: string; pid: number }> {
    return this.pid > 0 ? [{ name: 'ring server', pid: this.pid }] : [];
  }

  /** The power loss: the one process. */
  killAll(): Promise<void> {
    return this.kill();
  }

  /** Starts again on the same port and data directory; resolves once it accepts connections. */
  async restart(): Promise<void> {
    if (this.proc?.running) await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    this.expectExit = true;
    await this.proc?.stop(5_000);
  }

  logTail(lines = 20): string {
    return this.proc?.logTail(lines) ?? '';
  }

  private async launch(): Promise<void> {
    const config: ServerConfig = { ...this.settings, host: this.host, port: this.port, parentPid: process.pid };
    this.expectExit = false;
    const proc = spawnBroker({
      name: 'ringbuffer-server',
      command: process.execPath,
      args: ['--import', tsxLoader(), ENTRY, JSON.stringify(config)],
      logFile: this.logFile,
    });
    this.proc = proc;
    void proc.exited.then((code) => {
      if (!this.expectExit && this.proc === proc) this.crash = new BrokerError(`the ring server (pid ${proc.pid}) exited (code ${code}) during the run (${this.logFile})`, proc.logTail(20));
    });
    // A secondary serves no client until it takes over: it is ready once its replication port is.
    const r = this.settings.replica;
    const probe = r?.role === 'secondary' ? r.replPort : this.port;
    const ready = await waitUntil(async () => !proc.running || (await canConnect(probe, this.host)), START_TIMEOUT_MS, 50);
    if (ready && proc.running) return;
    const exited = !proc.running;
    const tail = proc.logTail(20);
    this.expectExit = true;
    await proc.kill9();
    throw new BrokerError(
      exited ? `ring server exited during start (${this.logFile})` : `ring server did not accept connections on ${this.host}:${probe} within ${START_TIMEOUT_MS / 1000} s (${this.logFile})`,
      tail,
    );
  }
}
