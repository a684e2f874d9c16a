/** `pulsar.broker` and `pulsar.transactions` on their way to standalone.conf, without a broker. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { adapter } from '../../../src/adapters/pulsar/index.ts';
import { checkRun, parsePulsarOptions, type PulsarOptions } from '../../../src/adapters/pulsar/options.ts';
import { nativeDeployOptions } from '../../../src/adapters/pulsar/session.ts';
import { pulsarDeployment } from '../../../src/brokers/pulsar/deployment.ts';
import type { OpenContext, RunShape } from '../../../src/core/contract.ts';
import { ConfigError, exitCodeFor } from '../../../src/core/errors.ts';

const WHERE = 'scenarios/x.yaml';

function refusal(raw: unknown): string {
  try {
    parsePulsarOptions(raw, WHERE);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect(exitCodeFor(e)).toBe(2);
    return (e as ConfigError).message;
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
}

function context(options: PulsarOptions): OpenContext<PulsarOptions> {
  return { runId: 'r1', runDir: '/tmp/run', producers: 1, consumers: 1, messageSize: 64, maxInFlight: 10, brokers: 'native', externalUrls: {}, options, log: () => undefined };
}

const shape = (brokers: RunShape['brokers']): RunShape => ({ producers: 1, consumers: 1, messageSize: 64, stages: 1, brokers });

describe('pulsar.broker', () => {
  it('takes standalone.conf keys with scalar values, and survives a second parse', () => {
    const o = parsePulsarOptions({ broker: { journalWriteBufferSizeKB: 256, journalMaxGroupWaitMSec: 1, 'managedLedger.x-y_z': 'a b', journalFlushWhenQueueEmpty: true } }, WHERE);
    expect(o.broker).toEqual({ journalWriteBufferSizeKB: 256, journalMaxGroupWaitMSec: 1, 'managedLedger.x-y_z': 'a b', journalFlushWhenQueueEmpty: true });
    expect(parsePulsarOptions(o, WHERE)).toEqual(o);
  });

  it('is absent unless given: the parsed options of a run without it are unchanged', () => {
    expect('broker' in parsePulsarOptions({}, WHERE)).toBe(false);
  });

  it('refuses what is not a mapping of keys to one-line scalars, naming the key', () => {
    expect(refusal({ broker: [1] })).toBe(`${WHERE}: pulsar.broker: expected a mapping of standalone.conf keys to values, e.g. { journalWriteBufferSizeKB: 256 }, got [1]`);
    expect(refusal({ broker: { '9lives': 1 } })).toBe(`${WHERE}: pulsar.broker: expected standalone.conf keys (a letter, then letters, digits, _ . -), got "9lives"`);
    expect(refusal({ broker: { 'a=b': 1 } })).toMatch(/pulsar\.broker: expected standalone\.conf keys .*got "a=b"$/);
    expect(refusal({ broker: { journalWriteBufferSizeKB: { kb: 1 } } })).toBe(`${WHERE}: pulsar.broker.journalWriteBufferSizeKB: expected a string (one line), number or boolean, got {"kb":1}`);
    expect(refusal({ broker: { x: 'a\nbrokerServicePort=1' } })).toMatch(/pulsar\.broker\.x: expected a string \(one line\)/);
    expect(refusal({ broker: { x: null } })).toMatch(/pulsar\.broker\.x: expected a string \(one line\), number or boolean, got null$/);
    expect(refusal({ broker: { x: Number.NaN } })).toMatch(/pulsar\.broker\.x: expected/);
  });

  it('refuses a key busbench sets itself, naming the option to use instead', () => {
    expect(refusal({ broker: { journalSyncData: false } })).toBe(`${WHERE}: pulsar.broker.journalSyncData: expected no journalSyncData here (busbench sets it; use pulsar.journalSync), got false`);
    expect(refusal({ broker: { brokerDeduplicationEnabled: true } })).toMatch(/use pulsar\.dedup\), got true$/);
    expect(refusal({ broker: { transactionCoordinatorEnabled: true } })).toMatch(/use pulsar\.transactions\), got true$/);
    expect(refusal({ broker: { brokerServicePort: 6650 } })).toMatch(/pulsar\.broker\.brokerServicePort: .*busbench picks a free port/);
    expect(refusal({ broker: { bindAddress: '0.0.0.0' } })).toMatch(/pulsar\.broker\.bindAddress: .*busbench binds 127\.0\.0\.1/);
    expect(refusal({ broker: { advertisedAddress: 'h' } })).toMatch(/pulsar\.broker\.advertisedAddress: /);
  });

  it('is for --brokers native only: compose and external brokers are configured elsewhere', () => {
    const o = parsePulsarOptions({ broker: { journalWriteBufferSizeKB: 256 } }, WHERE);
    expect(() => checkRun(o, shape('native'), WHERE)).not.toThrow();
    expect(() => checkRun(o, shape('compose'), WHERE)).toThrow(`${WHERE}: pulsar.broker: expected nothing with --brokers compose (that broker's configuration is not busbench's to write), got {"journalWriteBufferSizeKB":256}`);
    expect(() => checkRun(o, shape('external'), WHERE)).toThrow(/pulsar\.broker: expected nothing with --brokers external/);
    expect(() => checkRun(parsePulsarOptions({}, WHERE), shape('external'), WHERE)).not.toThrow();
  });
});

describe('the native deployment a run asks for', () => {
  const native = (raw: Record<string, unknown>) => {
    const o = adapter.parseOptions(raw, WHERE);
    return nativeDeployOptions(context(o), o);
  };
  const deployed = (raw: Record<string, unknown>) => pulsarDeployment('native', native(raw)).describe();

  it('runs a transaction coordinator exactly when pulsar.transactions is on', () => {
    expect(deployed({ transactions: 'on' })).toMatchObject({ transactions: true });
    expect(deployed({ transactions: 'off' })).toMatchObject({ transactions: false });
    expect(deployed({ ...adapter.guaranteeOptions?.('exactly-once') })).toMatchObject({ transactions: true, deduplication: true });
    expect(deployed({ ...adapter.guaranteeOptions?.('at-least-once') })).toMatchObject({ transactions: false, deduplication: false });
  });

  it('hands pulsar.broker over as standalone.conf settings, in the run folder', () => {
    expect(native({ broker: { journalWriteBufferSizeKB: 256 } })).toMatchObject({ dir: path.join('/tmp/run', 'pulsar'), journalSync: true, deduplication: true, transactions: false, config: { journalWriteBufferSizeKB: 256 } });
    expect(deployed({ broker: { journalWriteBufferSizeKB: 256 } })).toMatchObject({ configOverrides: { journalWriteBufferSizeKB: 256 } });
    expect('config' in native({})).toBe(false);
  });
});
