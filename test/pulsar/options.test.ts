import { describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/pulsar/index.ts';
import { DEFAULT_OPTIONS, parsePulsarOptions, resolveSubscriptionType } from '../../src/adapters/pulsar/options.ts';
import { ConfigError } from '../../src/core/errors.ts';

const WHERE = 'scenarios/x.yaml: pulsar';

function configError(raw: unknown): ConfigError {
  try {
    adapter.parseOptions(raw, WHERE);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
}

describe('pulsar options', () => {
  it('fills in defaults', () => {
    expect(adapter.parseOptions(undefined, WHERE)).toEqual({ ...DEFAULT_OPTIONS });
    expect(adapter.parseOptions({}, WHERE)).toEqual({
      batching: 'on',
      batchMaxMessages: 1000,
      batchMaxDelayMs: 1,
      batchMaxBytes: 131072,
      compression: 'none',
      subscriptionType: 'auto',
      ackMode: 'individual',
      journalSync: 'on',
      partitions: 0,
      dedup: 'on',
      receiverQueueSize: 1000,
      ackGroupingMs: 0,
      sendTimeoutMs: 60000,
      adminUrl: '',
      readBack: 'on',
      transactions: 'off',
      txnTimeoutMs: 10000,
    });
  });

  it('accepts every field, on/off as YAML booleans and byte sizes with units', () => {
    const o = adapter.parseOptions(
      {
        batching: false,
        batchMaxMessages: 500,
        batchMaxDelayMs: 10,
        batchMaxBytes: '1MiB',
        compression: 'zstd',
        subscriptionType: 'failover',
        ackMode: 'cumulative',
        journalSync: 'off',
        partitions: 4,
        dedup: true,
        receiverQueueSize: 5000,
        ackGroupingMs: 250,
        sendTimeoutMs: 0,
        adminUrl: 'http://10.0.0.1:8081/',
        readBack: 'off',
        transactions: true,
        txnTimeoutMs: 2500,
      },
      WHERE,
    );
    expect(o).toEqual({
      batching: 'off',
      batchMaxMessages: 500,
      batchMaxDelayMs: 10,
      batchMaxBytes: 1 << 20,
      compression: 'zstd',
      subscriptionType: 'failover',
      ackMode: 'cumulative',
      journalSync: 'off',
      partitions: 4,
      dedup: 'on',
      receiverQueueSize: 5000,
      ackGroupingMs: 250,
      sendTimeoutMs: 0,
      adminUrl: 'http://10.0.0.1:8081',
      readBack: 'off',
      transactions: 'on',
      txnTimeoutMs: 2500,
    });
  });

  it('names the bad field and what is valid', () => {
    expect(configError({ batching: 'yes' }).message).toBe(`${WHERE}: pulsar.batching: expected "on" or "off", got "yes"`);
    expect(configError({ batchMaxMessages: 0 }).field).toBe('pulsar.batchMaxMessages');
    expect(configError({ batchMaxBytes: '10GiB' }).field).toBe('pulsar.batchMaxBytes');
    expect(configError({ subscriptionType: 'fanout' }).message).toMatch(/pulsar\.subscriptionType: expected one of auto, exclusive, shared, failover, key_shared/);
    expect(configError({ ackMode: 'batch' }).field).toBe('pulsar.ackMode');
    expect(configError({ partitions: -1 }).field).toBe('pulsar.partitions');
    expect(configError({ journalsync: 'on' }).message).toMatch(/pulsar\.journalsync: expected one of the fields/);
    expect(configError({ adminUrl: 'localhost:8080' }).field).toBe('pulsar.adminUrl');
    expect(configError('on').field).toBe('pulsar');
    expect(configError({ transactions: 'exactly-once' }).message).toBe(`${WHERE}: pulsar.transactions: expected "on" or "off", got "exactly-once"`);
    expect(configError({ compression: 'gzip' }).message).toBe(`${WHERE}: pulsar.compression: expected one of none, lz4, zlib, zstd, snappy, got "gzip"`);
    expect(configError({ ackGroupingMs: -1 }).message).toMatch(/pulsar\.ackGroupingMs: expected an integer from 0 to 60000, got -1/);
    expect(configError({ txnTimeoutMs: 50 }).message).toMatch(/pulsar\.txnTimeoutMs: expected an integer from 100 to 3600000, got 50/);
  });

  it('rejects cumulative acks with a shared subscription', () => {
    expect(configError({ subscriptionType: 'shared', ackMode: 'cumulative' }).field).toBe('pulsar.ackMode');
    expect(configError({ subscriptionType: 'key_shared', ackMode: 'cumulative' }).field).toBe('pulsar.ackMode');
  });

  it('resolves auto to exclusive for one consumer and shared for several', () => {
    const auto = parsePulsarOptions({}, WHERE);
    expect(resolveSubscriptionType(auto, 1, WHERE)).toBe('Exclusive');
    expect(resolveSubscriptionType(auto, 3, WHERE)).toBe('Shared');
    expect(() => resolveSubscriptionType(parsePulsarOptions({ subscriptionType: 'exclusive' }, WHERE), 2, WHERE)).toThrow(ConfigError);
    expect(() => resolveSubscriptionType(parsePulsarOptions({ ackMode: 'cumulative' }, WHERE), 2, WHERE)).toThrow(/cumulative|individual/);
    expect(resolveSubscriptionType(parsePulsarOptions({ subscriptionType: 'failover', ackMode: 'cumulative' }, WHERE), 2, WHERE)).toBe('Failover');
  });

  it('promises durability with journal sync and deduplication with dedup', () => {
    expect(adapter.capabilities(adapter.parseOptions({}, WHERE))).toEqual({ durability: 'power-loss', acks: true, perProducerOrdering: true, deduplication: true, transactions: false, idempotencyRecord: 'message-id' });
    expect(adapter.capabilities(adapter.parseOptions({ journalSync: 'off', dedup: 'off' }, WHERE))).toMatchObject({ durability: 'process-crash', deduplication: false });
  });

  it('turns deduplication and transactions on for exactly-once, off for at-least-once', () => {
    const caps = (g: 'exactly-once' | 'at-least-once') => adapter.capabilities(adapter.parseOptions(adapter.guaranteeOptions!(g), WHERE));
    expect(caps('exactly-once')).toMatchObject({ deduplication: true, transactions: true });
    expect(caps('at-least-once')).toMatchObject({ deduplication: false, transactions: false });
  });
});
