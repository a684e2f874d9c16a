/** Which NATS deployment a run uses: native (the default), compose, or the user's own. */
import type { BrokerDeployment, BrokerDescription } from './broker.ts';
import { BusbenchError, UsageError } from '../core/errors.ts';
import { NativeNats, type NativeNatsOptions } from './native/nats.ts';
import { ComposeNats } from './compose/nats.ts';

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

export interface NatsDeploymentOptions extends NativeNatsOptions {
  /** --url nats=<url>[,<url>...] for external mode */
  externalUrl?: string;
}

export function natsDeployment(mode: 'native' | 'compose' | 'external', opts: NatsDeploymentOptions): BrokerDeployment {
  if (mode === 'native') return new NativeNats(opts);
  if (mode === 'compose') return new ComposeNats();
  const urls = (opts.externalUrl ?? '').split(',').map((u) => u.trim()).filter(Boolean);
  if (urls.length === 0) throw new UsageError('--brokers external needs --url nats=nats://host:port[,nats://host:port...]');
  return new ExternalNats(urls);
}
