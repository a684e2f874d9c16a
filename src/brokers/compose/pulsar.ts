/**
 * Pulsar under docker compose (`--brokers compose`): the `pulsar` standalone service of
 * the repository's docker-compose.yml, driven through the docker CLI. Its data lives in
 * the container, so kill (-9) followed by start restarts on the same data, like native.
 */
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BrokerDescription } from '../broker.ts';
import type { PulsarDeployment } from '../pulsar-deployment.ts';
import { BrokerError } from '../../core/errors.ts';
import { PulsarAdmin, notReadyReason } from '../pulsar-admin.ts';
import { waitUntil } from '../native/ports.ts';

const run = promisify(execFile);

export interface ComposePulsarOptions {
  /** default: docker-compose.yml at the repository root */
  composeFile?: string;
  /** compose project name; default "busbench" */
  project?: string;
  /** default "pulsar" (the standalone service) */
  service?: string;
  /** host ports the service publishes; defaults match docker-compose.yml */
  brokerPort?: number;
  webPort?: number;
  /** whether readiness waits for the transaction coordinator topic; default true */
  transactions?: boolean;
  /** default 180 s, image pull not included */
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

const REPO_COMPOSE_FILE = fileURLToPath(new URL('../../../docker-compose.yml', import.meta.url));

export class ComposePulsar implements PulsarDeployment {
  readonly system = 'pulsar';
  readonly mode = 'compose' as const;
  private version = 'unknown';
  private readonly service: string;

  constructor(private readonly opts: ComposePulsarOptions = {}) {
    this.service = opts.service ?? 'pulsar';
  }

  urls(): string[] {
    return [`pulsar://127.0.0.1:${this.opts.brokerPort ?? 6650}`];
  }

  adminUrl(): string {
    return `http://127.0.0.1:${this.opts.webPort ?? 8080}`;
  }

  describe(): BrokerDescription {
    return {
      system: this.system,
      mode: this.mode,
      version: this.version,
      source: `docker compose service ${this.service} of ${this.composeFile()}`,
      topology: 'standalone: 1 broker + 1 bookie + RocksDB metadata store in one container',
      urls: this.urls(),
      adminUrl: this.adminUrl(),
      fault: 'docker compose kill -s SIGKILL: the container (broker, bookie, metadata store) dies; its filesystem survives',
    };
  }

  async start(): Promise<void> {
    await this.compose('up', '-d', this.service);
    await this.waitReady();
  }

  async stop(): Promise<void> {
    await this.compose('stop', '-t', '30', this.service);
  }

  async kill(): Promise<void> {
    await this.compose('kill', '-s', 'SIGKILL', this.service);
  }

  async restart(): Promise<void> {
    await this.compose('start', this.service);
    await this.waitReady();
  }

  logTail(lines = 30): string {
    try {
      return execFileSync('docker', [...this.base(), 'logs', '--no-color', '--tail', String(lines), this.service], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 15_000,
      }).trimEnd();
    } catch {
      return '';
    }
  }

  private composeFile(): string {
    return this.opts.composeFile ?? REPO_COMPOSE_FILE;
  }

  private base(): string[] {
    return ['compose', '-f', this.composeFile(), '-p', this.opts.project ?? 'busbench'];
  }

  private async compose(...args: string[]): Promise<void> {
    try {
      await run('docker', [...this.base(), ...args], { timeout: 15 * 60_000, maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      const hint = e.code === 'ENOENT' ? ' (is the docker CLI installed?)' : '';
      throw new BrokerError(`pulsar: docker compose ${args.join(' ')} failed${hint}: ${(e.stderr ?? e.message).trim()}`, this.logTail(), { cause: err });
    }
  }

  private async waitReady(): Promise<void> {
    const admin = new PulsarAdmin(this.adminUrl(), 5_000);
    const timeoutMs = this.opts.startTimeoutMs ?? 180_000;
    const t0 = Date.now();
    let reason = '';
    const ready = await waitUntil(async () => (reason = await notReadyReason(admin, { cluster: 'standalone', transactions: this.opts.transactions ?? true })) === '', timeoutMs, 1000);
    if (!ready) throw new BrokerError(`pulsar (compose) not ready after ${timeoutMs / 1000} s: ${reason}`, this.logTail());
    this.version = await admin.version().catch(() => 'unknown');
    this.opts.log?.(`pulsar: compose service ${this.service} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}
