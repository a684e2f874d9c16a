import { describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/nats/index.ts';
import { ackErrorOf, isDuplicateAck, streamSeqOf } from '../../src/adapters/nats/producer.ts';
import { headers } from '@nats-io/nats-core';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('nats options', () => {
  it('fills defaults: file storage, one server, explicit acks, the fast publish path', () => {
    expect(adapter.parseOptions(undefined, 'x')).toMatchObject({
      mode: 'jetstream',
      storage: 'file',
      topology: 'single',
      replicas: 1,
      syncInterval: 'default',
      ackPolicy: 'explicit',
      publish: 'fast',
      msgId: false,
      doubleAck: false,
      ackTimeoutMs: 10_000,
      ackWaitMs: 10_000,
      duplicateWindowMs: 120_000,
    });
  });

  it('replicas 3 implies the 3-node cluster', () => {
    expect(adapter.parseOptions({ replicas: 3 }, 'x')).toMatchObject({ topology: 'cluster3', replicas: 3 });
  });

  it('refuses bad values naming the file, the field and what is valid', () => {
    expect(() => adapter.parseOptions({ storage: 'disk' }, 'scenarios/x.yaml')).toThrow('scenarios/x.yaml: nats.storage: expected "file" or "memory", got "disk"');
    expect(() => adapter.parseOptions({ replicas: 3, topology: 'single' }, 'x')).toThrow(/nats.replicas: expected 1 on a single server/);
    expect(() => adapter.parseOptions({ replicas: 2 }, 'x')).toThrow(/nats.replicas: expected 1 or 3, got 2/);
    expect(() => adapter.parseOptions({ syncInterval: 'often' }, 'x')).toThrow(/nats.syncInterval/);
    expect(() => adapter.parseOptions({ duplicateWindow: 'soon' }, 'x')).toThrow(/nats.duplicateWindow: expected a duration/);
    expect(() => adapter.parseOptions({ maxAckPending: 0 }, 'x')).toThrow(/nats.maxAckPending: expected an integer >= 1, got 0/);
    expect(() => adapter.parseOptions({ msgId: 'yes' }, 'x')).toThrow(/nats.msgId: expected "on" or "off"/);
    expect(() => adapter.parseOptions({ compression: 's2', storage: 'memory' }, 'x')).toThrow(/nats.compression/);
    expect(() => adapter.parseOptions({ colour: 1 }, 'x')).toThrow(/nats.colour: expected one of the fields/);
    expect(() => adapter.parseOptions([1], 'x')).toThrow(/x: nats: expected a mapping/);
  });

  it('derives capabilities from the options', () => {
    const caps = (raw: Record<string, unknown>) => adapter.capabilities(adapter.parseOptions(raw, 'x'));
    expect(caps({})).toEqual({ durability: 'process-crash', acks: true, perProducerOrdering: true, deduplication: false, transactions: false, idempotencyRecord: 'message-id' });
    expect(caps({ storage: 'memory' }).durability).toBe('none');
    expect(caps({ syncInterval: 'always' }).durability).toBe('power-loss');
    expect(caps({ syncInterval: '100ms' }).durability).toBe('process-crash');
    expect(caps({ msgId: 'on' }).deduplication).toBe(true);
    expect(caps({ mode: 'core' })).toMatchObject({ durability: 'none', acks: false, deduplication: false });
  });
});

describe('exactly-once options', () => {
  it('switches message ids and double acks on for exactly-once, off for at-least-once', () => {
    const eo = adapter.parseOptions(adapter.guaranteeOptions!('exactly-once'), 'x');
    expect(eo).toMatchObject({ msgId: true, doubleAck: true });
    expect(adapter.capabilities(eo)).toMatchObject({ deduplication: true, idempotencyRecord: 'message-id' });
    expect(adapter.parseOptions(adapter.guaranteeOptions!('at-least-once'), 'x')).toMatchObject({ msgId: false, doubleAck: false });
    // the scenario's own section wins over the guarantee's defaults
    expect(adapter.parseOptions({ ...adapter.guaranteeOptions!('exactly-once'), doubleAck: 'off' }, 'x')).toMatchObject({ doubleAck: false });
  });

  it('reads the duplicate window and ack wait as durations, and refuses a double ack without acks', () => {
    expect(adapter.parseOptions({ duplicateWindow: '5m', ackWait: '2s' }, 'x')).toMatchObject({ duplicateWindowMs: 300_000, ackWaitMs: 2_000 });
    expect(() => adapter.parseOptions({ doubleAck: 'on', ackPolicy: 'none' }, 'x')).toThrow(/nats.doubleAck: expected "off" with ackPolicy "none"/);
    expect(() => adapter.parseOptions({ doubleAck: 2 }, 'x')).toThrow(/nats.doubleAck: expected "on" or "off"/);
  });
});

describe('publish replies', () => {
  it('tells a duplicate PubAck from a first one', () => {
    expect(isDuplicateAck(enc('{"stream":"S","seq":7,"duplicate":true}'))).toBe(true);
    expect(isDuplicateAck(enc('{"stream":"S", "seq": 7,"duplicate": true}\n'))).toBe(true);
    expect(isDuplicateAck(enc('{"stream":"S","seq":7}'))).toBe(false);
    expect(isDuplicateAck(enc('{"stream":"S","domain":"true","seq":7}'))).toBe(false);
    expect(isDuplicateAck(enc(''))).toBe(false);
  });

  it('reads the stream sequence of a PubAck', () => {
    expect(streamSeqOf(enc('{"stream":"S","seq":12345}'))).toBe(12345);
    expect(streamSeqOf(enc('{"stream":"S","seq":7,"duplicate":true}'))).toBe(7);
    expect(streamSeqOf(enc('{"stream":"S"}'))).toBe(-1);
  });

  it('tells acks from errors, and reads status headers', () => {
    expect(ackErrorOf({ data: enc('{"stream":"S","seq":1}'), headers: undefined })).toBeUndefined();
    expect(ackErrorOf({ data: enc('{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"},"stream":"S","seq":0}'), headers: undefined })).toEqual({
      code: 503,
      description: 'maximum messages exceeded (err_code 10077)',
    });
    expect(ackErrorOf({ data: enc('{"error":{"code":429,"err_code":10167,"description":"too many requests"},"stream":"S","seq":0}'), headers: headers(429, 'Too Many Requests') })?.code).toBe(429);
    expect(ackErrorOf({ data: new Uint8Array(0), headers: headers(503, 'No Responders') })?.code).toBe(503);
    expect(ackErrorOf({ data: enc('garbage'), headers: undefined })?.description).toMatch(/unreadable ack/);
  });
});
