/**
 * Pulsar under docker compose (`--brokers compose`): the `pulsar` standalone service of
 * the repository's docker-compose.yml, driven through the docker CLI. Its data lives in
 * the container, so kill (-9) followed by start restarts on the same data, like native.
 */
import type { BrokerDescription } from '../broker.ts';
import type { PulsarDeployment } from './deployment.ts';
import { BrokerError } from '../../core/errors.ts';
import { PulsarAdmin, notReadyReason } from './admin.ts';
import { waitUntil } from '../common/ports.ts';
import { ComposeCli, REPO_COMPOSE_FILE } from '../common/compose-cli.ts';

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

export class ComposePulsar implements PulsarDeployment {
  readonly system = 'pulsar';
  readonly mode = 'compose' as const;
  private version = 'unknown';
  private readonly service: string;

  private readonly cli: ComposeCli;

  constructor(private readonly opts: ComposePulsarOptions = {}) {
    this.service = opts.service ?? 'pulsar';
    this.cli = new ComposeCli(opts.composeFile ?? REPO_COMPOSE_FILE, opts.project ?? 'busbench');
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
    await this.cli.run('pulsar', [this.service], 'up', '-d');
    await this.waitReady();
  }

  async stop(): Promise<void> {
    await this.cli.run('pulsar', [this.service], 'stop', '-t', '30');
  }

  async kill(): Promise<void> {
    await this.cli.run('pulsar', [this.service], 'kill', '-s', 'SIGKILL');
  }

  async restart(): Promise<void> {
    await this.cli.run('pulsar', [this.service], 'start');
    await this.waitReady();
  }

  logTail(lines = 30): string {
    return this.cli.logTail([this.service], lines);
  }

  private composeFile(): string {
    return this.cli.file;
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
