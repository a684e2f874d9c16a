import { describe, expect, it } from 'vitest';
import { loadAdapter, requireBrokerUrls, systemNames } from '../../src/adapters/registry.ts';
import { UsageError } from '../../src/core/errors.ts';

describe('registry', () => {
  it('lists the systems that need no broker first, then the rest by name', async () => {
    expect(await systemNames()).toEqual(['ringbuffer', 'nats', 'pulsar']);
  });

  it('asks --brokers external for the URL of every system with a broker, and of no other', async () => {
    const [ring, nats, pulsar] = await Promise.all(['ringbuffer', 'nats', 'pulsar'].map(loadAdapter));
    expect(() => requireBrokerUrls([ring!], 'external', {})).not.toThrow();
    expect(() => requireBrokerUrls([ring!, nats!], 'native', {})).not.toThrow();
    expect(() => requireBrokerUrls([ring!, nats!, pulsar!], 'external', { nats: 'nats://h:4222' })).toThrow(new UsageError('--brokers external needs --url pulsar=<url>'));
  });
});
