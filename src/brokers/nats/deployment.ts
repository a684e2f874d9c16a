/** Which NATS deployment a run uses: native (the default), compose, or the user's own. */
import type { BrokerDeployment } from '../broker.ts';
import { UsageError } from '../../core/errors.ts';
import { NativeNats, type NativeNatsOptions } from './native.ts';
import { ComposeNats } from './compose.ts';
import { ExternalNats } from './external.ts';

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
