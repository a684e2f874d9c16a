/**
 * The `partitions` workload field and its flag: parsed, defaulted, refused in one line
 * naming the value and what is valid; which systems take it and how a system's own
 * setting meets it; the partition of a message (one function for every system); and the
 * per-partition counts, which add up to the run's totals, against the broker's.
 */
import { describe, expect, it } from 'vitest';
import { validateScenario } from '../../src/scenario/scenario.ts';
import { applyFlags, parseFlags } from '../../src/scenario/flags.ts';
import { ConfigError, UsageError } from '../../src/core/errors.ts';
import { PartitionRouter } from '../../src/core/partitions.ts';
import { keyIndex, keyText, NO_KEYS, type KeyPlan } from '../../src/core/keys.ts';
import { keyPartition } from '../../src/core/murmur3.ts';
import { adapter as nats } from '../../src/adapters/nats/index.ts';
import { adapter as ring } from '../../src/adapters/ringbuffer/index.ts';
import { adapter as pulsar } from '../../src/adapters/pulsar/index.ts';
import { topicPartitions } from '../../src/adapters/pulsar/options.ts';
import { partitionOfSubject, partitionsOfConsumer, SubjectRouter } from '../../src/adapters/nats/partitions.ts';
import type { RunShape } from '../../src/core/contract.ts';
import { ConsumerLedger, ProducerLedger, reconcile } from '../../src/checks/ledger.ts';
import { checkPartitions, countPerPartition, describePartitions } from '../../src/checks/partition-counts.ts';
import { SeqSet } from '../../src/checks/seqset.ts';

const systems = ['ringbuffer', 'nats', 'pulsar'];
const parse = (doc: Record<string, unknown>) => validateScenario(doc, 'x.yaml', systems);

function configError(doc: Record<string, unknown>): string {
  try {
    parse(doc);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('no error');
}

describe('partitions in a scenario file and on the command line', () => {
  it('are 1 by default, and read as written', () => {
    expect(parse({}).partitions).toBe(1);
    expect(parse({ partitions: 4 }).partitions).toBe(4);
    expect(parse({ partitions: 256 }).partitions).toBe(256);
  });

  it('refuse anything but an integer from 1 to 256, naming the value', () => {
    expect(configError({ partitions: 0 })).toBe('x.yaml: partitions: expected an integer from 1 to 256, got 0');
    expect(configError({ partitions: 257 })).toBe('x.yaml: partitions: expected an integer from 1 to 256, got 257');
    expect(configError({ partitions: 2.5 })).toBe('x.yaml: partitions: expected an integer from 1 to 256, got 2.5');
    expect(configError({ partitions: '4' })).toBe('x.yaml: partitions: expected an integer from 1 to 256, got "4"');
    expect(configError({ partitons: 4 })).toMatch(/^x.yaml: partitons: expected one of the fields .*partitions/);
  });

  it('--partitions overrides the file; a bad value is one line', () => {
    const withFlags = (doc: Record<string, unknown>, argv: string[]) => applyFlags(parse(doc), parseFlags(argv, systems));
    expect(withFlags({ partitions: 2 }, ['--partitions', '8']).partitions).toBe(8);
    expect(withFlags({ partitions: 2 }, []).partitions).toBe(2);
    for (const bad of ['0', '257', '-1', '2.5', 'four', '']) {
      expect(() => parseFlags(['--partitions', bad], systems)).toThrow(new UsageError(`--partitions ${bad}: expected an integer from 1 to 256`));
    }
  });
});

describe('which systems take partitions', () => {
  const shape = (partitions: number, extra: Partial<RunShape> = {}): RunShape => ({ producers: 2, consumers: 2, messageSize: 512, stages: 1, brokers: 'native', partitions, ...extra });

  it('every system takes them; the ring not with pipeline stages', () => {
    expect(() => pulsar.checkRun!(pulsar.parseOptions(undefined, 'x.yaml'), shape(4), 'x.yaml')).not.toThrow();
    expect(() => nats.checkRun!(nats.parseOptions(undefined, 'x.yaml'), shape(4), 'x.yaml')).not.toThrow();
    expect(() => ring.checkRun!(ring.parseOptions(undefined, 'x.yaml'), shape(1), 'x.yaml')).not.toThrow();
    expect(() => ring.checkRun!(ring.parseOptions(undefined, 'x.yaml'), shape(4), 'x.yaml')).not.toThrow();
    expect(() => ring.checkRun!(ring.parseOptions({ process: 'child' }, 'x.yaml'), shape(4), 'x.yaml')).not.toThrow();
    expect(() => ring.checkRun!(ring.parseOptions(undefined, 'x.yaml'), shape(2, { stages: 2 }), 'x.yaml')).toThrow(new ConfigError('x.yaml', 'partitions', '1 with pipeline stages on ringbuffer', 2));
  });

  it('nats refuses them in core mode, with pipeline stages, and with ackPolicy all', () => {
    expect(() => nats.checkRun!(nats.parseOptions({ mode: 'core' }, 'x.yaml'), shape(4), 'x.yaml')).toThrow(/^x.yaml: partitions: expected 1 with nats.mode core .*got 4$/);
    expect(() => nats.checkRun!(nats.parseOptions(undefined, 'x.yaml'), shape(4, { stages: 2 }), 'x.yaml')).toThrow(/^x.yaml: partitions: expected 1 with pipeline stages on nats/);
    expect(() => nats.checkRun!(nats.parseOptions({ ackPolicy: 'all' }, 'x.yaml'), shape(4, { consumers: 1 }), 'x.yaml')).toThrow(/^x.yaml: nats.ackPolicy: expected "explicit" or "none" with partitions above 1/);
  });

  it('pulsar.partitions stays; it must agree with the workload field where both are set', () => {
    const o = (partitions?: number) => pulsar.parseOptions(partitions === undefined ? undefined : { partitions }, 'x.yaml');
    expect(topicPartitions(o(3), undefined)).toBe(3);
    expect(topicPartitions(o(3), 1)).toBe(3);
    expect(topicPartitions(o(), 4)).toBe(4);
    expect(topicPartitions(o(4), 4)).toBe(4);
    expect(topicPartitions(o(), 1)).toBe(0);
    expect(() => pulsar.checkRun!(o(4), shape(4), 'x.yaml')).not.toThrow();
    expect(() => pulsar.checkRun!(o(3), shape(4), 'x.yaml')).toThrow(new ConfigError('x.yaml', 'pulsar.partitions', "4 or unset (the workload's partitions: 4 sets the topic's partitions)", 3));
  });
});

describe('the partition of a message', () => {
  it('without keys: a chunk of consecutive sequences per partition, in turn, from a producer-dependent start', () => {
    const r0 = new PartitionRouter({ count: 4, chunk: 3 }, NO_KEYS, 0);
    expect(Array.from({ length: 14 }, (_, s) => r0.partition(s))).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 0, 0]);
    const r1 = new PartitionRouter({ count: 4, chunk: 3 }, NO_KEYS, 1);
    expect(r1.partition(0)).toBe(1);
    expect(new PartitionRouter({ count: 1, chunk: 3 }, NO_KEYS, 5).partition(1234)).toBe(0);
  });

  it('splits a batch into runs of consecutive messages that share a partition, covering it in order', () => {
    const out: number[] = [];
    expect(new PartitionRouter({ count: 4, chunk: 3 }, NO_KEYS, 0).runs(2, 8, out)).toEqual([0, 0, 1, 1, 1, 3, 2, 4, 3, 3, 7, 1]);
    expect(new PartitionRouter({ count: 4, chunk: 3 }, NO_KEYS, 0).runs(0, 0, out)).toEqual([]);
    const keyed = new PartitionRouter({ count: 4, chunk: 128 }, { distribution: 'random', space: 50 }, 2);
    const runs = keyed.runs(100, 64, out);
    const flat: number[] = [];
    for (let r = 0; r < runs.length; r += 3) for (let i = 0; i < runs[r + 2]!; i++) flat.push(runs[r]!, runs[r + 1]! + i);
    expect(flat).toEqual(Array.from({ length: 64 }, (_, i) => [keyed.partition(100 + i), i]).flat());
  });

  it("with keys: the key's Murmur3 hash modulo the partitions (Pulsar's key routing), the same for every producer", () => {
    const keys: KeyPlan = { distribution: 'random', space: 50 };
    for (const producer of [0, 3]) {
      const r = new PartitionRouter({ count: 4, chunk: 128 }, keys, producer);
      for (let s = 0; s < 500; s++) expect(r.partition(s)).toBe(keyPartition(keyText(keyIndex(keys, producer, s)), 4));
    }
  });
});

describe('nats subjects per partition and key', () => {
  it('names the partition, then the key; a consumer finds the partition in the subject', () => {
    const keyed = new SubjectRouter('busbench.r.orders', { plan: { count: 4, chunk: 2 }, keys: { distribution: 'round-robin', space: 10 } }, 0);
    const s = keyed.of(7);
    expect(s).toBe(`busbench.r.orders.p${keyPartition('k7', 4)}.k7`);
    expect(partitionOfSubject(s, 'busbench.r.orders.p'.length)).toBe(keyPartition('k7', 4));
    const plain = new SubjectRouter('busbench.r.orders', { plan: { count: 12, chunk: 2 }, keys: NO_KEYS }, 0);
    expect(plain.of(22)).toBe('busbench.r.orders.p11');
    expect(partitionOfSubject(plain.of(22), 'busbench.r.orders.p'.length)).toBe(11);
  });

  it('gives every partition to exactly one consumer, or shares one when consumers outnumber partitions', () => {
    expect([0, 1].map((c) => partitionsOfConsumer(c, 2, 4))).toEqual([[0, 2], [1, 3]]);
    expect([0, 1, 2].map((c) => partitionsOfConsumer(c, 3, 2))).toEqual([[0], [1], [0]]);
  });
});

describe('per-partition counts', () => {
  const plan = { count: 4, chunk: 8 };
  const keys: KeyPlan = { distribution: 'random', space: 100 };

  /** Two producers, 1000 messages each: acks for all but a few, receipts for all but a few, one duplicate. */
  function ledgers() {
    const producers = [0, 1].map((id) => {
      const p = new ProducerLedger(id);
      p.sent = 1000;
      p.acked(0, 990);
      p.unknown(990, 10, 'timeout');
      return p;
    });
    const consumers = [0, 1].map((id) => new ConsumerLedger(id));
    for (let seq = 0; seq < 1000; seq++) {
      if (seq % 97 !== 5) consumers[0]!.record(0, seq);
      consumers[seq % 2]!.record(1, seq);
    }
    consumers[1]!.record(1, 4);
    return { producers: producers.map((p) => p.snapshot()), consumers: consumers.map((c) => c.snapshot()) };
  }

  it('add up to the totals: sent, acked, and received = received − duplicated', () => {
    const { producers, consumers } = ledgers();
    const totals = reconcile(producers, consumers).counts;
    for (const k of [keys, NO_KEYS]) {
      const per = countPerPartition(producers, consumers, plan, k);
      expect(per).toHaveLength(4);
      const sum = (f: (c: (typeof per)[number]) => number) => per.reduce((t, c) => t + f(c), 0);
      expect(sum((c) => c.sent)).toBe(totals.sent);
      expect(sum((c) => c.acked)).toBe(totals.acked);
      expect(sum((c) => c.received)).toBe(totals.received - totals.duplicated);
      for (const c of per) expect(c.sent).toBeGreaterThan(300);
    }
  });

  it('each message counts in the partition its router names', () => {
    const { producers, consumers } = ledgers();
    const per = countPerPartition(producers, consumers, plan, keys);
    const expected = new Array<number>(4).fill(0);
    for (const id of [0, 1]) {
      const r = new PartitionRouter(plan, keys, id);
      for (let s = 0; s < 1000; s++) expected[r.partition(s)]!++;
    }
    expect(per.map((c) => c.sent)).toEqual(expected);
  });

  it("agree with the broker's per-partition counts, and say which partition does not", () => {
    const { producers, consumers } = ledgers();
    const per = countPerPartition(producers, consumers, plan, NO_KEYS);
    const broker = (shift: number) => ({ source: 'test', perPartition: per.map((c, i) => ({ stored: c.acked + (i === 2 ? shift : 0), delivered: c.received })) });
    const ok = checkPartitions(per, broker(0), { duplicated: 1 });
    expect(ok.agrees).toBe(true);
    expect(ok.counts[2]!.brokerStored).toBe(per[2]!.acked);
    const low = checkPartitions(per, broker(-1), { duplicated: 1 });
    expect(low.agrees).toBe(false);
    expect(low.note).toBe(`partition 2: broker stored ${per[2]!.acked - 1}, outside [acked ${per[2]!.acked}, sent ${per[2]!.sent}]`);
    expect(describePartitions(low)).toMatch(/^partitions 4: received \d+ \/ \d+ \/ \d+ \/ \d+ \(sent .*BROKER DISAGREES: partition 2/);
    const exact = checkPartitions(per, { source: 't', perPartition: per.map((c) => ({ delivered: c.received + 1 })) }, { duplicated: 0 });
    expect(exact.agrees).toBe(false);
    expect(exact.note).toMatch(/^partition 0: broker delivered \d+, not the \d+ distinct messages received/);
    expect(checkPartitions(per, broker(-1), { duplicated: 0, unjudgeable: 'the broker restarted' })).toMatchObject({ agrees: null, note: 'per-partition broker counts not judged: the broker restarted' });
    expect(checkPartitions(per, { source: 't' }, { duplicated: 0 }).agrees).toBeNull();
  });
});

describe('SeqSet.forEachRun', () => {
  it('visits every member once, in runs', () => {
    const s = new SeqSet();
    s.addRange(0, 70_000);
    s.addRange(70_010, 5);
    s.add(200_000);
    const runs: Array<[number, number]> = [];
    s.forEachRun((start, count) => runs.push([start, count]));
    expect(runs.reduce((t, [, n]) => t + n, 0)).toBe(s.size);
    expect(runs).toContainEqual([70_010, 5]);
    expect(runs).toContainEqual([200_000, 1]);
  });
});
