/**
 * A Pulsar the user runs (`--brokers external`): busbench only attaches. It cannot kill
 * or restart what it does not own, so the durability checks are refused, not faked.
 */
import type { BrokerDescription } from '../broker.ts';
import type { PulsarDeployment } from './deployment.ts';
import { BrokerError, BusbenchError } from '../../core/errors.ts';
import { PulsarAdmin, notReadyReason } from './admin.ts';
import { waitUntil } from '../common/ports.ts';

export interface ExternalPulsarOptions {
  /** e.g. "pulsar://broker.example:6650" */
  serviceUrl: string;
  /** default: http on the service URL's host, port 8080 */
  adminUrl?: string;
  /** whether the run needs the transaction coordinator; default true */
  transactions?: boolean;
  /** how long start() waits for the broker to answer; default 30 s */
  startTimeoutMs?: number;
  /** token authentication for the admin API */
  token?: string;
}

export class ExternalPulsar implements PulsarDeployment {
  readonly system = 'pulsar';
  readonly mode = 'external' as const;
  private readonly admin: PulsarAdmin;
  private version = 'unknown';

  constructor(private readonly opts: ExternalPulsarOptions) {
    this.admin = new PulsarAdmin(opts.adminUrl ?? defaultAdminUrl(opts.serviceUrl), undefined, opts.token ?? '');
  }

  urls(): string[] {
    return [this.opts.serviceUrl];
  }

  adminUrl(): string {
    return this.admin.baseUrl;
  }

  describe(): BrokerDescription {
    return {
      system: this.system,
      mode: this.mode,
      version: this.version,
      source: 'external (run by the user)',
      topology: 'external',
      urls: this.urls(),
      adminUrl: this.adminUrl(),
    };
  }

  async start(): Promise<void> {
    const timeoutMs = this.opts.startTimeoutMs ?? 30_000;
    let reason = '';
    const ready = await waitUntil(
      async () => (reason = await notReadyReason(this.admin, { transactions: this.opts.transactions ?? true })) === '',
      timeoutMs,
      1000,
    );
    if (!ready) throw new BrokerError(`pulsar at ${this.adminUrl()} not ready after ${timeoutMs / 1000} s: ${reason}`);
    this.version = await this.admin.version().catch(() => 'unknown');
  }

  async stop(): Promise<void> {
    /* not ours to stop */
  }

  kill(): Promise<void> {
    return Promise.reject(refused('kill'));
  }

  restart(): Promise<void> {
    return Promise.reject(refused('restart'));
  }

  logTail(): string {
    return '';
  }
}

function refused(what: string): BusbenchError {
  return new BusbenchError('BROKER', `pulsar: cannot ${what} an external broker (busbench does not run it); use --brokers native or compose for the durability checks`);
}

/** "pulsar://host:6650" → "http://host:8080" (Pulsar's default web port). */
export function defaultAdminUrl(serviceUrl: string): string {
  const m = /^pulsar(\+ssl)?:\/\/([^:/,]+)/.exec(serviceUrl);
  if (!m) throw new BusbenchError('USAGE', `pulsar: not a service URL: ${JSON.stringify(serviceUrl)} (expected pulsar://host:port)`);
  return `${m[1] ? 'https' : 'http'}://${m[2]}:${m[1] ? 8443 : 8080}`;
}
