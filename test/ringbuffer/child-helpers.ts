/**
 * Helpers for tests of the ring buffer through the contract, in either process mode:
 * a session, producers and consumers built from its (structured-cloned) workerInit, acks
 * recorded, and consuming with a deadline so that no test can hang.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adapter } from '../../src/adapters/ringbuffer/index.ts';
import { workerSide } from '../../src/adapters/ringbuffer/worker.ts';
import type { AckSink, Consumer, DeliveryBatch, OpenContext, Producer, RunControl, SystemSession } from '../../src/core/contract.ts';
import type { RingInit } from '../../src/adapters/ringbuffer/init.ts';
import type { RingOptions } from '../../src/adapters/ringbuffer/options.ts';
import { batchBytes, checkMessage, NEVER_STOP } from './helpers.ts';

export const SIZE = 64;

const made: string[] = [];

/** A fresh temporary folder, removed by removeTempDirs(). */
export function tempDir(prefix = 'busbench-ring-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** For afterAll: run folders hold server logs and journals. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export function context(producers: number, consumers: number, options: Record<string, unknown>, extra: Partial<OpenContext<RingOptions>> = {}): OpenContext<RingOptions> {
  return {
    runId: 'test',
    runDir: tempDir(),
    producers,
    consumers,
    messageSize: SIZE,
    maxInFlight: 1000,
    brokers: 'native',
    externalUrls: {},
    options: adapter.parseOptions(options, 'test'),
    log: () => undefined,
    ...extra,
  };
}

export interface RecordedAcks {
  acked: Array<[number, number]>;
  failed: Array<[number, number, string]>;
  unknown: Array<[number, number, string]>;
}

export function acksSink(): { sink: AckSink; rec: RecordedAcks } {
  const rec: RecordedAcks = { acked: [], failed: [], unknown: [] };
  return {
    rec,
    sink: {
      acked: (s, c) => rec.acked.push([s, c]),
      failed: (s, c, why) => rec.failed.push([s, c, why]),
      unknown: (s, c, why) => rec.unknown.push([s, c, why]),
      // the ring never answers duplicate (its deduplication acks what it drops)
      duplicate: () => undefined,
    },
  };
}

export const total = (xs: Array<[number, number, ...unknown[]]>): number => xs.reduce((n, x) => n + x[1], 0);

export interface Ring {
  session: SystemSession<RingInit>;
  init: RingInit;
  producer(id: number, stage?: number, control?: RunControl): Promise<{ p: Producer; rec: RecordedAcks }>;
  consumer(id: number, stage?: number, control?: RunControl): Promise<Consumer>;
}

export async function openRing(ctx: OpenContext<RingOptions>): Promise<Ring> {
  const session = await adapter.open(ctx);
  const init = structuredClone(session.workerInit);
  return {
    session,
    init,
    async producer(id, stage = 0, control = NEVER_STOP) {
      const { sink, rec } = acksSink();
      const p = await workerSide.createProducer(init, { producerId: id, stage, messageSize: SIZE, maxInFlight: ctx.maxInFlight, control }, sink);
      return { p, rec };
    },
    consumer(id, stage = 0, control = NEVER_STOP) {
      return workerSide.createConsumer(init, { consumerId: id, stage, consumers: ctx.consumers, producers: ctx.producers, messageSize: SIZE, control });
    },
  };
}

/** Tags a message with its producer in the top byte of the seq word checkMessage reads. */
export const tagged = (producer: number, seq: number): number => producer * 2 ** 24 + seq;

export async function send(p: Producer, producerId: number, firstSeq: number, count: number): Promise<void> {
  const bytes = batchBytes(tagged(producerId, firstSeq), count, SIZE);
  await p.send({ bytes, size: SIZE, count, producerId, firstSeq });
}

export function decode(b: DeliveryBatch): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < b.count; i++) {
    const v = checkMessage(b.buffer(i), b.offset(i), b.length(i));
    if (v < 0) throw new Error('corrupt message');
    out.push([Math.floor(v / 2 ** 24), v % 2 ** 24]);
  }
  return out;
}

/**
 * Receives until at least `want` messages came and then nothing more for `quietMs` (so
 * extras would show; 0: stop at once), at most `deadlineMs` in all. Acks each batch unless `ack` is false.
 */
export async function consume(c: Consumer, want: number, opts: { ack?: boolean; quietMs?: number; deadlineMs?: number } = {}): Promise<Array<[number, number]>> {
  const { ack = true, quietMs = 300, deadlineMs = 20_000 } = opts;
  const got: Array<[number, number]> = [];
  const deadline = Date.now() + deadlineMs;
  let lastAt = Date.now();
  while (Date.now() < deadline && !(got.length >= want && (quietMs === 0 || Date.now() - lastAt > quietMs))) {
    const b = await c.receive(64, 50);
    if (b.count === 0) continue;
    got.push(...decode(b));
    lastAt = Date.now();
    if (ack) await c.ack(b);
  }
  return got;
}

/** Seqs of `producer` among received messages, in arrival order. */
export const seqsOf = (got: Array<[number, number]>, producer: number): number[] => got.filter(([p]) => p === producer).map(([, s]) => s);

export const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
