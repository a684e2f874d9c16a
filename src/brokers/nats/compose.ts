/**
 * NATS under docker compose (`--brokers compose`): the 3-node JetStream cluster of the
 * repository's docker-compose.yml (nats-1..3), driven through the docker CLI.
 */
import type { BrokerDeployment, BrokerDescription } from '../broker.ts';
import { BrokerError } from '../../core/errors.ts';
import { waitUntil } from '../common/ports.ts';
import { ComposeCli, REPO_COMPOSE_FILE } from '../common/compose-cli.ts';
import { NATS_SERVER_VERSION } from './install.ts';

export const COMPOSE_NATS_SERVICES = ['nats-1', 'nats-2', 'nats-3'];
/** host ports published by docker-compose.yml: client 4222-4224, monitoring 8222-8224 */
const CLIENT_PORTS = [4222, 4223, 4224];
const MONITOR_PORTS = [8222, 8223, 8224];

export class ComposeNats implements BrokerDeployment {
  readonly system = 'nats';
  readonly mode = 'compose' as const;
  private readonly cli: ComposeCli;

  constructor(composeFile: string = REPO_COMPOSE_FILE) {
    this.cli = new ComposeCli(composeFile);
  }

  urls(): string[] {
    return CLIENT_PORTS.map((p) => `nats://127.0.0.1:${p}`);
  }

  describe(): BrokerDescription {
    return {
      system: 'nats',
      mode: 'compose',
      version: `${NATS_SERVER_VERSION} (image nats:${NATS_SERVER_VERSION}-alpine)`,
      source: `docker compose services ${COMPOSE_NATS_SERVICES.join(', ')} of ${this.cli.file}`,
      topology: '3-node JetStream cluster (containers)',
      urls: this.urls(),
    };
  }

  async start(): Promise<void> {
    await this.cli.run('nats', COMPOSE_NATS_SERVICES, 'up', '-d', '--wait');
    await this.waitReady();
  }

  async stop(): Promise<void> {
    await this.cli.run('nats', COMPOSE_NATS_SERVICES, 'stop', '-t', '30');
  }

  async kill(): Promise<void> {
    await this.cli.run('nats', COMPOSE_NATS_SERVICES, 'kill', '-s', 'SIGKILL');
  }

  async restart(): Promise<void> {
    await this.cli.run('nats', COMPOSE_NATS_SERVICES, 'start');
    await this.waitReady();
  }

  logTail(lines = 30): string {
    return this.cli.logTail(COMPOSE_NATS_SERVICES, lines);
  }

  private async waitReady(): Promise<void> {
    const healthy = async (): Promise<boolean> => {
      const r = await Promise.all(MONITOR_PORTS.map((p) => fetch(`http://127.0.0.1:${p}/healthz`, { signal: AbortSignal.timeout(2000) }).then((x) => x.ok, () => false)));
      return r.every(Boolean);
    };
    if (!(await waitUntil(healthy, 120_000, 500))) throw new BrokerError('nats (compose) not healthy within 120 s', this.logTail());
  }
}
