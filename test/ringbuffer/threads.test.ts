/**
 * Real worker threads: producers and consumers in separate workers sharing the lanes,
 * every (producer, seq) checked to arrive exactly once and in order. Small lanes keep
 * them wrapping and full most of the time, so the wait strategies really wait.
 */
import { describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/ringbuffer/index.ts';
import { spawnTsWorker } from '../../src/core/ts-worker.ts';
import type { ConsumerReport, ProducerReport, ThreadJob } from './ring-thread.ts';

const ENTRY = new URL('./ring-thread.ts', import.meta.url);
/** Safety net only: a hang stops the workers and fails the delivery checks below. */
const STOP_AFTER_MS = 30_000;

type Reply<T> = { ok: true; report: T } | { ok: false; error: string };

function runJob<T>(job: ThreadJob): Promise<T> {
  const w = spawnTsWorker(ENTRY, job as unknown as Record<string, unknown>);
  return new Promise<T>((resolve, reject) => {
    w.once('message', (m: Reply<T>) => {
      void w.terminate();
      if (m.ok) resolve(m.report);
      else reject(new Error(`${job.role} ${job.id}: ${m.error}`));
    });
    w.once('error', reject);
  });
}

interface Case {
  producers: number;
  consumers: number;
  options: Record<string, unknown>;
}

async function moveMessages({ producers, consumers, options }: Case, perProducer: number): Promise<{ prods: ProducerReport[]; cons: ConsumerReport[] }> {
  const size = 512;
  const session = await adapter.open({
    runId: 'threads',
    runDir: '/tmp/busbench-ringbuffer-test',
    producers,
    consumers,
    messageSize: size,
    maxInFlight: 1000,
    brokers: 'native',
    externalUrls: {},
    options: adapter.parseOptions(options, 'test'),
    log: () => undefined,
  });
  const stop = new SharedArrayBuffer(4);
  const timer = setTimeout(() => Atomics.store(new Int32Array(stop), 0, 1), STOP_AFTER_MS);
  const base = { init: session.workerInit, producers, consumers, perProducer, size, stop };
  try {
    const cons = Array.from({ length: consumers }, (_, id) => runJob<ConsumerReport>({ ...base, role: 'consumer', id }));
    const prods = Array.from({ length: producers }, (_, id) => runJob<ProducerReport>({ ...base, role: 'producer', id }));
    return { prods: await Promise.all(prods), cons: await Promise.all(cons) };
  } finally {
    clearTimeout(timer);
    await session.close();
  }
}

const CASES: Case[] = [
  { producers: 2, consumers: 1, options: { capacity: '64KiB', padding: 'on', wait: 'block' } },
  { producers: 2, consumers: 1, options: { capacity: '64KiB', padding: 'off', wait: 'spin' } },
  { producers: 2, consumers: 2, options: { capacity: '16KiB', padding: 'on', wait: 'yield' } },
];

describe('ringbuffer across worker threads', () => {
  for (const c of CASES) {
    const o = c.options;
    it(`moves 200k messages through ${c.producers} lanes to ${c.consumers} consumer(s), each exactly once in order (${o.capacity}, padding ${o.padding}, wait ${o.wait})`, async () => {
      const perProducer = 100_000;
      const { prods, cons } = await moveMessages(c, perProducer);
      for (const p of prods) expect(p).toEqual({ acked: perProducer, failed: 0 });
      for (const r of cons) expect(r.problems).toEqual([]);
      const received: Record<number, number> = Object.assign({}, ...cons.map((r) => r.received));
      expect(received).toEqual(Object.fromEntries(prods.map((_, p) => [p, perProducer])));
    });
  }
});
