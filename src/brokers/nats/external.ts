/** NATS external mode, beside native.ts and compose.ts (Pulsar has its own external.ts). */
import type { BrokerDeployment, BrokerDescription } from '../broker.ts';
import { BusbenchError } from '../../core/errors.ts';

/** Brokers the user runs: busbench connects, and never starts, stops, kills or restarts them. */
export class ExternalNats implements BrokerDeployment {
  readonly system = 'nats';
  readonly mode = 'external' as const;

  constructor(private readonly servers: string[]) {}

  urls(): string[] {
    return this.servers;
  }

  describe(): BrokerDescription {
    // the adapter records the version the server itself reports
    return { system: 'nats', mode: 'external', version: 'reported by the server', source: 'user-supplied URL', topology: 'external', urls: this.servers };
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  kill(): Promise<void> {
    return Promise.reject(refuseFaults('kill'));
  }

  restart(): Promise<void> {
    return Promise.reject(refuseFaults('restart'));
  }

  logTail(): string {
    return '';
  }
}

function refuseFaults(what: string): BusbenchError {
  return new BusbenchError('BROKER', `fault injection needs brokers the harness controls; --brokers external refuses to ${what} a broker it does not own (use --brokers native or compose)`);
}
