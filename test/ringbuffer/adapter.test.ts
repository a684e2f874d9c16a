/**
 * The adapter through the contract, in one thread: open a session, build producers and
 * consumers from its workerInit (structured-cloned, as a worker would get it), and step
 * them by hand.
 */
import { describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/ringbuffer/index.ts';
import { workerSide } from '../../src/adapters/ringbuffer/worker.ts';
import type { AckSink, Consumer, DeliveryBatch, OpenContext, Producer, RunControl } from '../../src/core/contract.ts';
import type { RingOptions } from '../../src/adapters/ringbuffer/options.ts';
import { batchBytes, checkMessage, controlStoppingAfter, NEVER_STOP, rng } from './helpers.ts';

function context(producers: number, consumers: number, options: Record<string, unknown> = {}, messageSize = 64): OpenContext<RingOptions> {
  return {
    runId: 'test',
    runDir: '/tmp/busbench-ringbuffer-test',
    producers,
    consumers,
    messageSize,
    maxInFlight: 1000,
    brokers: 'native',
    externalUrls: {},
    options: adapter.parseOptions(options, 'test'),
    log: () => undefined,
  };
}

interface RecordedAcks {
  acked: Array<[number, number]>;
  failed: Array<[number, number, string]>;
  unknown: Array<[number, number]>;
}

function acksSink(): { sink: AckSink; rec: RecordedAcks } {
  const rec: RecordedAcks = { acked: [], failed: [], unknown: [] };
  return {
    rec,
    sink: {
      acked: (s, c) => rec.acked.push([s, c]),
      failed: (s, c, why) => rec.failed.push([s, c, why]),
      unknown: (s, c) => rec.unknown.push([s, c]),
      duplicate: () => undefined,
    },
  };
}

async function session(producers: number, consumers: number, options: Record<string, unknown> = {}, control: RunControl = NEVER_STOP) {
  const s = await adapter.open(context(producers, consumers, options));
  const init = structuredClone(s.workerInit);
  const acks = Array.from({ length: producers }, () => acksSink());
  const prods: Producer[] = [];
  for (let p = 0; p < producers; p++) {
    prods.push(await workerSide.createProducer(init, { producerId: p, messageSize: 64, maxInFlight: 1000, control }, acks[p]!.sink));
  }
  const cons: Consumer[] = [];
  for (let c = 0; c < consumers; c++) {
    cons.push(await workerSide.createConsumer(init, { consumerId: c, consumers, producers, messageSize: 64, control }));
  }
  return { s, prods, cons, acks };
}

/** Tags a message with its producer in the top byte of the seq word checkMessage reads. */
const tagged = (producer: number, seq: number): number => producer * 2 ** 24 + seq;

function send(p: Producer, producerId: number, firstSeq: number, count: number, size: number): void {
  const bytes = batchBytes(tagged(producerId, firstSeq), count, size);
  const r = p.send({ bytes, size, count, producerId, firstSeq });
  expect(r).toBeUndefined();
}

/** The ring receives synchronously: no promise per batch on its hot path. */
function receive(c: Consumer, max: number, maxWaitMs: number): DeliveryBatch {
  const b = c.receive(max, maxWaitMs);
  if (b instanceof Promise) throw new Error('the ring must receive synchronously');
  return b;
}

function received(b: DeliveryBatch): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < b.count; i++) {
    const v = checkMessage(b.buffer(i), b.offset(i), b.length(i));
    if (v < 0) throw new Error('corrupt message');
    out.push([Math.floor(v / 2 ** 24), v % 2 ** 24]);
  }
  return out;
}

describe('ringbuffer adapter', () => {
  it('promises ordering per producer, and no durability, broker acks, dedup or transactions', () => {
    expect(adapter.capabilities(adapter.parseOptions(undefined, 'test'))).toEqual({
      durability: 'none',
      acks: false,
      perProducerOrdering: true,
      deduplication: false,
      transactions: false,
      idempotencyRecord: 'offset',
    });
  });

  it('records its configuration, one lane per producer', async () => {
    const s = await adapter.open(context(3, 2, { capacity: '64KiB', padding: 'off', wait: 'spin' }));
    expect(s.config).toEqual({ process: 'inline', capacity: 65536, padding: 'off', wait: 'spin', dedup: 'off', lanes: 3 });
    await s.close();
  });

  it('refuses more consumers than producers, naming both counts', async () => {
    await expect(adapter.open(context(2, 3))).rejects.toThrow(/3 consumers for 2 producers/);
  });

  it('refuses a message size that does not fit in a lane', async () => {
    await expect(adapter.open(context(1, 1, { capacity: 1024 }, 2048))).rejects.toThrow(/2048-byte message does not fit/);
  });

  it('acks each batch once it is in the ring, and flush resolves at once', async () => {
    const { prods, acks } = await session(1, 1);
    send(prods[0]!, 0, 0, 10, 64);
    send(prods[0]!, 0, 10, 5, 64);
    expect(acks[0]!.rec.acked).toEqual([
      [0, 10],
      [10, 5],
    ]);
    await prods[0]!.flush(1000);
  });

  it('serves lane l from consumer l % consumers, round-robin, per producer in order', async () => {
    const { prods, cons } = await session(3, 2, { capacity: 4096 });
    const r = rng(3);
    const sent = [0, 0, 0];
    const got: Array<Array<[number, number]>> = [[], []];
    const lanesSeen: number[][] = [[], []];
    for (let round = 0; round < 300; round++) {
      for (let p = 0; p < 3; p++) {
        const n = r(6);
        if (n === 0) continue;
        send(prods[p]!, p, sent[p]!, n, 16 + r(48));
        sent[p]! += n;
      }
      for (let c = 0; c < 2; c++) {
        const b = receive(cons[c]!, 1 + r(8), 0);
        const msgs = received(b);
        got[c]!.push(...msgs);
        if (msgs.length > 0) lanesSeen[c]!.push(msgs[0]![0]);
        cons[c]!.ack(b);
      }
    }
    for (let c = 0; c < 2; c++) {
      for (;;) {
        const b = receive(cons[c]!, 64, 0);
        if (b.count === 0) break;
        got[c]!.push(...received(b));
        cons[c]!.ack(b);
      }
    }
    // Consumer 0 serves lanes 0 and 2; consumer 1 lane 1.
    expect(new Set(got[0]!.map(([p]) => p))).toEqual(new Set([0, 2]));
    expect(new Set(got[1]!.map(([p]) => p))).toEqual(new Set([1]));
    for (let p = 0; p < 3; p++) {
      const seqs = got[p % 2]!.filter(([q]) => q === p).map(([, s]) => s);
      expect(seqs).toEqual(Array.from({ length: sent[p]! }, (_, i) => i));
    }
    // With both of its lanes busy, consumer 0 alternates between them.
    const switches = lanesSeen[0]!.slice(1).filter((l, i) => l !== lanesSeen[0]![i]).length;
    expect(switches).toBeGreaterThan(lanesSeen[0]!.length / 3);
  });

  for (const wait of ['spin', 'yield', 'block'] as const) {
    it(`a producer blocked on a full lane gives up when the run stops, failing only the unsent part (wait ${wait})`, async () => {
      const control = controlStoppingAfter(100);
      const { prods, acks } = await session(1, 1, { capacity: 1024, wait }, control);
      // 20 messages of 100 bytes: 10 fit in 1024 (8 + 1000), the rest never will.
      send(prods[0]!, 0, 0, 20, 100);
      expect(acks[0]!.rec.acked).toEqual([[0, 10]]);
      expect(acks[0]!.rec.failed).toEqual([[10, 10, 'run stopped']]);
      expect(acks[0]!.rec.unknown).toEqual([]);
      expect(control.stopping()).toBe(true);
    });

    it(`receive returns an empty batch on timeout, and on stop however long it may wait (wait ${wait})`, async () => {
      const idle = await session(1, 1, { wait });
      expect(receive(idle.cons[0]!, 10, 0)).toMatchObject({ count: 0 });
      expect(receive(idle.cons[0]!, 10, 20)).toMatchObject({ count: 0 });
      const stopping = await session(1, 1, { wait }, controlStoppingAfter(3));
      expect(receive(stopping.cons[0]!, 10, 3_600_000)).toMatchObject({ count: 0 });
    });
  }
});
