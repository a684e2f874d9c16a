import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/pulsar/index.ts';
import { checkRun, DEFAULT_OPTIONS, parsePulsarOptions, resolveSubscriptionType, tokenOf } from '../../src/adapters/pulsar/options.ts';
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
      topology: 'standalone',
      ensembleSize: 1,
      writeQuorum: 1,
      ackQuorum: 1,
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
      listenerName: '',
      tlsTrustCertsFilePath: '',
      tlsAllowInsecureConnection: 'off',
      tlsHostnameVerification: 'on',
      token: '',
      tokenFile: '',
    });
  });

  it('accepts every field, on/off as YAML booleans and byte sizes with units', () => {
    const o = adapter.parseOptions(
      {
        topology: 'cluster',
        ensembleSize: 3,
        writeQuorum: 2,
        ackQuorum: 1,
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
      topology: 'cluster',
      ensembleSize: 3,
      writeQuorum: 2,
      ackQuorum: 1,
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
      listenerName: '',
      tlsTrustCertsFilePath: '',
      tlsAllowInsecureConnection: 'off',
      tlsHostnameVerification: 'on',
      token: '',
      tokenFile: '',
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
    expect(resolveSubscriptionType(auto, { consumers: 1 }, WHERE)).toBe('Exclusive');
    expect(resolveSubscriptionType(auto, { consumers: 3 }, WHERE)).toBe('Shared');
    expect(() => resolveSubscriptionType(parsePulsarOptions({ subscriptionType: 'exclusive' }, WHERE), { consumers: 2 }, WHERE)).toThrow(ConfigError);
    expect(() => resolveSubscriptionType(parsePulsarOptions({ ackMode: 'cumulative' }, WHERE), { consumers: 2 }, WHERE)).toThrow(/cumulative|individual/);
    expect(resolveSubscriptionType(parsePulsarOptions({ subscriptionType: 'failover', ackMode: 'cumulative' }, WHERE), { consumers: 2 }, WHERE)).toBe('Failover');
  });

  it('counts the consumers of one subscription, not the run’s: every topic has its own', () => {
    const auto = parsePulsarOptions({}, WHERE);
    expect(resolveSubscriptionType(auto, { consumers: 3, topics: 3 }, WHERE)).toBe('Exclusive');
    expect(resolveSubscriptionType(auto, { consumers: 4, topics: 3 }, WHERE)).toBe('Shared'); // topic 0 has two
    const shape = { producers: 2, consumers: 2, messageSize: 512, stages: 1, brokers: 'native' as const, topics: 2 };
    expect(() => checkRun(parsePulsarOptions({ ackMode: 'cumulative' }, WHERE), shape, WHERE)).not.toThrow();
    expect(() => checkRun(parsePulsarOptions({ subscriptionType: 'exclusive' }, WHERE), shape, WHERE)).not.toThrow();
    expect(() => checkRun(parsePulsarOptions({ subscriptionType: 'exclusive' }, WHERE), { ...shape, consumers: 4 }, WHERE)).toThrow(/2 consumers on a subscription/);
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

  describe('listener, TLS and token', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-pulsar-opts-'));
    const pem = path.join(dir, 'ca.pem');
    fs.writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const tokenFile = path.join(dir, 'token');
    fs.writeFileSync(tokenFile, 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln\n');
    const run = (brokers: 'native' | 'compose' | 'external') => ({ producers: 1, consumers: 1, messageSize: 512, stages: 1, brokers });

    it('accepts them, and reads the token from tokenFile', () => {
      const o = parsePulsarOptions({ listenerName: 'external', tlsTrustCertsFilePath: pem, tlsAllowInsecureConnection: false, tlsHostnameVerification: false, tokenFile }, WHERE);
      expect(o).toMatchObject({ listenerName: 'external', tlsTrustCertsFilePath: pem, tlsAllowInsecureConnection: 'off', tlsHostnameVerification: 'off', token: '', tokenFile });
      expect(tokenOf(o)).toBe('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln');
      expect(parsePulsarOptions(o, WHERE)).toEqual(o);
      expect(() => checkRun(o, run('external'), WHERE)).not.toThrow();
    });

    it('names the bad value and what is valid', () => {
      expect(configError({ listenerName: 'ex ternal' }).message).toMatch(/pulsar\.listenerName: expected a listener name .*got "ex ternal"/);
      expect(configError({ tlsTrustCertsFilePath: path.join(dir, 'missing.pem') }).message).toMatch(/pulsar\.tlsTrustCertsFilePath: expected a readable PEM file/);
      expect(configError({ tlsTrustCertsFilePath: tokenFile }).field).toBe('pulsar.tlsTrustCertsFilePath');
      expect(configError({ tlsHostnameVerification: 'maybe' }).field).toBe('pulsar.tlsHostnameVerification');
      expect(configError({ token: 'two words' }).field).toBe('pulsar.token');
      expect(configError({ tokenFile: path.join(dir, 'missing') }).message).toMatch(/pulsar\.tokenFile: expected a readable file holding one token/);
      expect(configError({ token: 'abc', tokenFile }).message).toMatch(/pulsar\.tokenFile: expected nothing when pulsar\.token is set/);
    });

    it('refuses a listener or TLS settings with a broker busbench runs itself', () => {
      expect(() => checkRun(parsePulsarOptions({ listenerName: 'external' }, WHERE), run('compose'), WHERE)).toThrow(/pulsar\.listenerName: expected nothing with --brokers compose/);
      expect(() => checkRun(parsePulsarOptions({ tlsAllowInsecureConnection: 'on' }, WHERE), run('native'), WHERE)).toThrow(/pulsar\.tlsAllowInsecureConnection: expected nothing with --brokers native/);
      expect(() => checkRun(parsePulsarOptions({ token: 'abc' }, WHERE), run('native'), WHERE)).not.toThrow();
    });
  });
});
