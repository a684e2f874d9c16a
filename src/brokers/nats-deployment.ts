/** Which NATS deployment a run uses: native (the default), compose, or the user's own. */
import type { BrokerDeployment, BrokerDescription } from './broker.ts';
import { BusbenchError } from '../core/errors.ts';
import { NativeNats, type NativeNatsOptions } from './native/nats.ts';
import { ComposeNats } from './compose/nats.ts';

/** Brokers the user runs: busbench connects, and never starts, stops or kills them. */
export class ExternalNats implements BrokerDeployment {
  readonly system = 'nats';
  readonly mode = 'external' as const;

  constructor(private readonly servers: string[]) {}

  urls(): string[] {
    return this.servers;
  }

  describe(): BrokerDescription {
    return { system: 'nats', mode: 'external', version: 'external (see the server)', source: 'user-supplied URL', topology: 'external', urls: this.servers };
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  kill(): Promise<void> {
    return Promise.reject(refuseFaults());
  }

  restart(): Promise<void> {
    return Promise.reject(refuseFaults());
  }

  logTail(): string {
    return '';
  }
}

function refuseFaults(): BusbenchError {
  return new BusbenchError('BROKER', 'fault injection needs brokers the harness controls; --brokers external refuses to kill or restart a broker it does not own');
}

export function natsDeployment(mode: 'native' | 'compose' | 'external', opts: NativeNatsOptions & { externalUrl?: string }): BrokerDeployment {
  if (mode === 'native') return new NativeNats(opts);
  if (mode === 'compose') return new ComposeNats();
  if (!opts.externalUrl) throw new BusbenchError('USAGE', '--brokers external needs --url nats=<url>');
  return new ExternalNats(opts.externalUrl.split(','));
}
