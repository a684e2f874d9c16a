/**
 * One suite for every system the registry finds, through the contract alone, in this
 * thread: SystemAdapter.parseOptions/open, WorkerSide.createProducer/createConsumer, the
 * AckSink, Consumer.receive/ack/close and Producer.send/flush/close. A new folder under
 * src/adapters/ gets these tests without a line here.
 *
 * One session per configuration (a Pulsar broker takes ~20 s to start), opened with one
 * pipeline stage per test: each test has a topic of its own, so what one leaves behind
 * (an unacked redelivery, a sequence 0 again) cannot pass or fail another.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadAdapter, loadWorkerSide, systemNames } from '../../src/adapters/registry.ts';
import type { Consumer, OpenContext, Producer, RunControl, SystemAdapter, SystemSession, WorkerSide } from '../../src/core/contract.ts';
import { consume, key, Outcomes, produce, range, seqsOf, SIZE } from './probe.ts';

interface Configuration {
  label: string;
  options: Record<string, unknown>;
}

/**
 * Configurations worth holding to the contract, where defaults are not enough: the ring's
 * server process (with and without its journal), and NATS on file storage (durable) with
 * a short ack wait, so that a delivery closed without an ack comes back within the test.
 * A system not listed runs with its defaults.
 */
const CONFIGURATIONS: Record<string, Configuration[]> = {
  ringbuffer: [
    { label: 'inline', options: {} },
    { label: 'child', options: { process: 'child' } },
    { label: 'child, journal fsync', options: { process: 'child', journal: 'fsync' } },
  ],
  nats: [{ label: 'file storage', options: { storage: 'file', ackWait: '1s' } }],
};

const STAGE = { ackAll: 0, order: 1, redelivery: 2, flush: 3, kill: 4 } as const;
const NEVER_STOP: RunControl = { stopping: () => false };
const PRODUCERS = 2;

const systems = await Promise.all((await systemNames()).map(async (name) => ({ name, adapter: await loadAdapter(name), side: await loadWorkerSide(name) })));

/** A system opened in one configuration, and the clients a test builds from it. */
class Subject {
  session: SystemSession | undefined;
  // made in start(), not here: a describe block filtered out by -t never runs its afterAll
  private dir = '';
  private readonly open: Array<Producer | Consumer> = [];

  constructor(
    readonly adapter: SystemAdapter,
    private readonly side: WorkerSide,
    readonly options: Record<string, unknown>,
  ) {}

  async start(): Promise<void> {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-conformance-'));
    const ctx: OpenContext = {
      runId: `conformance${Date.now()}`,
      runDir: this.dir,
      producers: PRODUCERS,
      consumers: 1,
      messageSize: SIZE,
      maxInFlight: 500,
      brokers: 'native',
      externalUrls: {},
      options: this.options,
      stages: Object.keys(STAGE).length,
      log: () => undefined,
    };
    this.session = await this.adapter.open(ctx);
  }

  /** Structured-cloned, as a worker thread receives it. */
  private init(): SystemSession['workerInit'] {
    if (!this.session) throw new Error('session not open');
    return structuredClone(this.session.workerInit);
  }

  async producer(producerId: number, stage: number): Promise<{ p: Producer; out: Outcomes }> {
    const out = new Outcomes();
    const p = await this.side.createProducer(this.init(), { producerId, stage, messageSize: SIZE, maxInFlight: 500, control: NEVER_STOP }, out);
    this.open.push(p);
    return { p, out };
  }

  async consumer(stage: number): Promise<Consumer> {
    const c = await this.side.createConsumer(this.init(), { consumerId: 0, stage, consumers: 1, producers: PRODUCERS, messageSize: SIZE, control: NEVER_STOP });
    this.open.push(c);
    return c;
  }

  /** Closes one client now (a test that needs it gone before the next step). */
  async close(x: Producer | Consumer): Promise<void> {
    this.open.splice(this.open.indexOf(x), 1);
    await x.close();
  }

  /** Closes what the test left open, also when it failed half-way. */
  async closeClients(): Promise<void> {
    for (const x of this.open.splice(0)) await x.close();
  }

  async stop(): Promise<void> {
    await this.closeClients();
    await this.session?.close();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

for (const { name, adapter, side } of systems) {
  for (const conf of CONFIGURATIONS[name] ?? [{ label: 'defaults', options: {} }]) {
    const options = adapter.parseOptions(conf.options, 'conformance');
    const caps = adapter.capabilities(options);
    describe(`${name} (${conf.label}) keeps the contract`, () => {
      const subject = new Subject(adapter, side, options);
      beforeAll(() => subject.start());
      afterEach(() => subject.closeClients());
      afterAll(() => subject.stop());
      conformance(subject, caps.perProducerOrdering, caps.durability !== 'none');
    });
  }
}

function conformance(subject: Subject, ordered: boolean, durable: boolean): void {
  it('publishes, consumes and acks: every message acked, and received exactly once', async () => {
    const N = 2000;
    const { p, out } = await subject.producer(0, STAGE.ackAll);
    const c = await subject.consumer(STAGE.ackAll);
    await produce(p, 0, 0, N);
    await p.flush(20_000);
    expect(out.ackedSeqs.size).toBe(N);
    expect(out.failedCount + out.unknownCount).toBe(0);
    const got = await consume(c, { until: (seen) => seen.size >= N, quietMs: 500 });
    expect(new Set(got.map(key)).size).toBe(N);
    expect(got.length).toBe(N);
    expect(got.every((d) => d.producer === 0 && d.seq >= 0 && d.seq < N)).toBe(true);
  });

  it.skipIf(!ordered)('keeps each producer’s order: two interleaved producers, each sequence arrives in order', async () => {
    const N = 1000;
    const a = await subject.producer(0, STAGE.order);
    const b = await subject.producer(1, STAGE.order);
    for (let seq = 0; seq < N; seq += 50) {
      await produce(a.p, 0, seq, seq + 50, 25);
      await produce(b.p, 1, seq, seq + 50, 50);
    }
    await Promise.all([a.p.flush(20_000), b.p.flush(20_000)]);
    const c = await subject.consumer(STAGE.order);
    const got = await consume(c, { until: (seen) => seen.size >= 2 * N });
    expect(seqsOf(got, 0)).toEqual(range(0, N));
    expect(seqsOf(got, 1)).toEqual(range(0, N));
  });

  it('delivers again what a consumer closed without acking, to the next consumer of the stage', async () => {
    const N = 300;
    const { p } = await subject.producer(0, STAGE.redelivery);
    await produce(p, 0, 0, N);
    await p.flush(20_000);
    const first = await subject.consumer(STAGE.redelivery);
    const unacked = await consume(first, { until: (seen) => seen.size > 0, ack: false, deadlineMs: 20_000 });
    expect(unacked.length).toBeGreaterThan(0);
    await subject.close(first);
    const next = await subject.consumer(STAGE.redelivery);
    const again = await consume(next, { until: (seen) => seen.size >= N, deadlineMs: 30_000 });
    const seenAgain = new Set(again.map(key));
    expect(unacked.filter((d) => !seenAgain.has(key(d)))).toEqual([]);
    expect(seenAgain.size).toBe(N);
  });

  it('flush: once it resolves, every sent sequence has exactly one outcome in the AckSink', async () => {
    const N = 3000;
    const { p, out } = await subject.producer(0, STAGE.flush);
    await produce(p, 0, 0, N, 200);
    await p.flush(20_000);
    expect(out.unsettled(N)).toEqual({ none: [], several: [] });
    // nothing may come afterwards either: a late second outcome would count a message twice
    await new Promise((r) => setTimeout(r, 300));
    expect(out.unsettled(N)).toEqual({ none: [], several: [] });
    expect(out.perSeq.size).toBe(N);
  });

  it.skipIf(!durable)('kill -9 and restart: every message acked before the kill is delivered after it', async (ctx) => {
    const faults = subject.session?.faults;
    if (!faults) return ctx.skip();
    const N = 1000;
    const { p, out } = await subject.producer(0, STAGE.kill);
    await produce(p, 0, 0, N);
    await p.flush(20_000);
    await subject.close(p);
    const acked = [...out.ackedSeqs].sort((x, y) => x - y);
    expect(acked.length).toBeGreaterThan(0);
    await faults.kill();
    await faults.restart();
    const c = await subject.consumer(STAGE.kill);
    const got = await consume(c, { until: (seen) => acked.every((s) => seen.has(`0:${s}`)), deadlineMs: 60_000 });
    const seen = new Set(got.map(key));
    expect(acked.filter((s) => !seen.has(`0:${s}`))).toEqual([]);
  });
}
