/**
 * One entry point for a Pulsar broker whoever runs it; the adapter picks the mode from
 * the run's `--brokers` flag and never looks behind this.
 */
import type { BrokerDeployment } from '../broker.ts';
import { NativePulsar, type PulsarNativeOptions } from './native.ts';
import { ExternalPulsar, type ExternalPulsarOptions } from './external.ts';
import { ComposePulsar, type ComposePulsarOptions } from './compose.ts';
import { BusbenchError } from '../../core/errors.ts';

export interface PulsarDeployment extends BrokerDeployment {
  /** the admin REST API, e.g. "http://127.0.0.1:8080"; valid once started */
  adminUrl(): string;
}

export type PulsarDeploymentOptions = PulsarNativeOptions | ComposePulsarOptions | ExternalPulsarOptions;

export function pulsarDeployment(mode: 'native', opts: PulsarNativeOptions): NativePulsar;
export function pulsarDeployment(mode: 'compose', opts?: ComposePulsarOptions): ComposePulsar;
export function pulsarDeployment(mode: 'external', opts: ExternalPulsarOptions): ExternalPulsar;
export function pulsarDeployment(mode: 'native' | 'compose' | 'external', opts: PulsarDeploymentOptions): PulsarDeployment;
export function pulsarDeployment(mode: 'native' | 'compose' | 'external', opts: PulsarDeploymentOptions = {}): PulsarDeployment {
  switch (mode) {
    case 'native':
      if (!('dir' in opts)) throw new BusbenchError('BROKER', 'pulsar native: a folder (dir) for config, data and logs is required');
      return new NativePulsar(opts);
    case 'external':
      if (!('serviceUrl' in opts)) throw new BusbenchError('USAGE', 'pulsar external: a service URL is required (--url pulsar=pulsar://host:6650)');
      return new ExternalPulsar(opts);
    case 'compose':
      return new ComposePulsar(opts);
  }
}
