/**
 * `replicas: 2`: two ring server processes on the host, each with its own data
 * directory, and which of them is the primary. Every port is picked at the start and kept
 * for restarts: clients know both client ports and find the primary by trying them in
 * turn (link.ts).
 *
 * Faults: kill -9 of the primary (then the secondary takes over, within milliseconds, and
 * the killed one restarts as the secondary) or of the secondary (the primary goes on, and
 * the restarted one catches up), as `killReplica` says; a power loss takes both, and the
 * primary restarts first, on what is left of its own journal.
 */
import path from 'node:path';
import { canConnect, freePort, waitUntil } from '../../../brokers/common/ports.ts';
import { BrokerError } from '../../../core/errors.ts';
import type { KillReplica } from '../options.ts';
import { RingServerProcess, type ServerSettings } from './server-process.ts';
import { replicaCaughtUp } from './replica-status.ts';

/** How long a surviving secondary may take to listen as the primary after the kill (it is down for longer). */
const TAKE_OVER_TIMEOUT_MS = 5_000;
/** How long a (re)started secondary may take to hold the primary's backlog. */
const CATCH_UP_TIMEOUT_MS = 30_000;

export class ReplicaPair {
  readonly host = '127.0.0.1';
  private readonly procs: RingServerProcess[];
  private primary = 0;

  private constructor(
    private readonly clientPortsOf: number[],
    settings: Omit<ServerSettings, 'replica' | 'dataDir'>,
    dataDir: string,
    logDir: string,
    private readonly replPorts: number[],
    private readonly target: KillReplica,
  ) {
    this.procs = [0, 1].map(
      (i) =>
        new RingServerProcess(
          { ...settings, dataDir: path.join(dataDir, `replica-${i}`), replica: { role: i === 0 ? 'primary' : 'secondary', replPort: replPorts[i]!, peerReplPort: replPorts[1 - i]! } },
          path.join(logDir, `ringbuffer-server-${i}.log`),
          clientPortsOf[i],
        ),
    );
  }

  static async create(settings: Omit<ServerSettings, 'replica' | 'dataDir'>, dataDir: string, logDir: string, target: KillReplica): Promise<ReplicaPair> {
    const ports: number[] = [];
    while (ports.length < 4) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    return new ReplicaPair(ports.slice(0, 2), settings, dataDir, logDir, ports.slice(2), target);
  }

  /** The secondary first, so that the primary's stream finds it at once; ready once it has caught up. */
  async start(): Promise<void> {
    await this.procs[1]!.start();
    await this.procs[0]!.start();
    await this.caughtUp(1);
  }

  /** the primary's client address (stats are asked there) */
  get address(): { host: string; port: number } {
    return { host: this.host, port: this.clientPortsOf[this.primary]! };
  }

  get clientPorts(): number[] {
    return [...this.clientPortsOf];
  }

  get pids(): Array<{ name: string; pid: number }> {
    return this.procs.map((p, i) => ({ name: `ring server ${i} (${i === this.primary ? 'primary' : 'secondary'})`, pid: p.pid })).filter((p) => p.pid > 0);
  }

  /**
   * kill -9 of the replica `killReplica` names. Returns once it is gone, not once the other
   * has taken over: the harness times the recovery from here.
   */
  async kill(): Promise<void> {
    const victim = this.target === 'primary' ? this.primary : 1 - this.primary;
    await this.procs[victim]!.kill();
  }

  /** Both at once: the power loss of the host. */
  async killAll(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.kill()));
  }

  /** Starts whichever is down, the primary first, each in its current role. */
  async restart(): Promise<void> {
    await this.noteTakeOver();
    for (const i of [this.primary, 1 - this.primary]) {
      const p = this.procs[i]!;
      if (p.running) continue;
      p.setRole(i === this.primary ? 'primary' : 'secondary');
      await p.restart();
    }
    await this.caughtUp(1 - this.primary);
  }

  /** The primary is down: the other has taken over (or, not caught up, has given up and exited). */
  private async noteTakeOver(): Promise<void> {
    const other = 1 - this.primary;
    if (this.procs[this.primary]!.running || !this.procs[other]!.running) return;
    const tookOver = await waitUntil(async () => !this.procs[other]!.running || (await canConnect(this.clientPortsOf[other]!, this.host)), TAKE_OVER_TIMEOUT_MS, 10);
    if (tookOver && this.procs[other]!.running) this.primary = other;
  }

  /**
   * Waits until replica `i`, the secondary, holds the primary's backlog: until then acks
   * wait for it, but it could not take over, so the service is not whole yet.
   */
  private async caughtUp(i: number): Promise<void> {
    const p = this.procs[i]!;
    if (await waitUntil(async () => !p.running || (await replicaCaughtUp(this.host, this.replPorts[i]!)), CATCH_UP_TIMEOUT_MS, 20)) {
      if (p.running) return;
    }
    throw new BrokerError(`ring server ${i} (secondary) did not catch up with the primary within ${CATCH_UP_TIMEOUT_MS / 1000} s`, p.logTail(20));
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop()));
  }

  async crashedWithin(ms: number): Promise<BrokerError | undefined> {
    for (const p of this.procs) {
      const crash = await p.crashedWithin(ms);
      if (crash) return crash;
    }
    return undefined;
  }
}
