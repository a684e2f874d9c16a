/**
 * `replicas: 2` with real processes: two ring servers, each with its own journal. An ack
 * waits for both; kill -9 of the primary hands the service to the secondary (clients
 * find it by themselves) without losing an acknowledged message; a restarted replica
 * catches up from the primary before it can take over in turn.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkRun, parseRingOptions } from '../../src/adapters/ringbuffer/options.ts';
import { adapter } from '../../src/adapters/ringbuffer/index.ts';
import { parseSegmentName, readRecordHeader, RECORD_HEADER } from '../../src/adapters/ringbuffer/server/journal-format.ts';
import type { Producer } from '../../src/core/contract.ts';
import { consume, context, openRing, range, removeTempDirs, send, seqsOf, total, type RecordedAcks } from './child-helpers.ts';

const T = { timeout: 90_000 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const SHAPE = { producers: 1, consumers: 1, messageSize: 64, stages: 1, brokers: 'native' as const };

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await sleep(10);
  if (!ok()) throw new Error(`timed out waiting for ${what}`);
}

/** Messages in a replica's journal, read without touching it (recovery would cut a torn tail). */
function journalMessages(dir: string, lane: number): number {
  let n = 0;
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (parseSegmentName(name)?.lane !== lane) continue;
    const buf = fs.readFileSync(path.join(dir, name));
    for (let at = 0, h = readRecordHeader(buf, 0); h; h = readRecordHeader(buf, at)) {
      n += h.count;
      at += RECORD_HEADER + h.count * h.size;
    }
  }
  return n;
}

/** Sends batches of 10 in the background until stopped; returns the next unsent sequence. */
function keepSending(p: Producer): { stop: () => Promise<number> } {
  let stopping = false;
  let seq = 0;
  const loop = (async () => {
    while (!stopping) {
      await send(p, 0, seq, 10);
      seq += 10;
      await sleep(2);
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      await loop;
      return seq;
    },
  };
}

/** Every acknowledged sequence, from the producer's ack records. */
const ackedSeqs = (rec: RecordedAcks): number[] => rec.acked.flatMap(([s, c]) => range(s, s + c));

afterAll(removeTempDirs);

describe('ringbuffer replicas: 2 options', () => {
  it('refuses replicas without a server process, a kill target without a secondary, and a third replica', () => {
    const inline = parseRingOptions({ replicas: 2 }, 'x.yaml');
    expect(() => checkRun(inline, SHAPE, 'x.yaml')).toThrow(/ringbuffer\.replicas.*1 unless ringbuffer\.process is "child"/);
    const lone = parseRingOptions({ process: 'child', killReplica: 'secondary' }, 'x.yaml');
    expect(() => checkRun(lone, SHAPE, 'x.yaml')).toThrow(/ringbuffer\.killReplica.*"primary" unless ringbuffer\.replicas is 2/);
    expect(() => parseRingOptions({ process: 'child', replicas: 3 }, 'x.yaml')).toThrow(/ringbuffer\.replicas.*from 1 to 2/);
    const ok = parseRingOptions({ process: 'child', replicas: 2, killReplica: 'secondary' }, 'x.yaml');
    expect(() => checkRun(ok, SHAPE, 'x.yaml')).not.toThrow();
  });

  it('promises survival of a process crash in memory, of a power loss with the journal', () => {
    expect(adapter.capabilities(parseRingOptions({ process: 'child', replicas: 2 }, 'x')).durability).toBe('process-crash');
    expect(adapter.capabilities(parseRingOptions({ process: 'child', replicas: 2, journal: 'fsync' }, 'x')).durability).toBe('power-loss');
  });
});

describe('ringbuffer replicas: 2', () => {
  it('acknowledges an append only once the secondary has it in its own journal', T, async () => {
    const ctx = context(1, 1, { process: 'child', journal: 'fsync', replicas: 2 });
    const ring = await openRing(ctx);
    try {
      expect(ring.session.config).toMatchObject({ replicas: 2, killReplica: 'primary', journal: 'fsync' });
      const secondary = ring.session.processes!().find((p) => /secondary/.test(p.name))!;
      const { p, rec } = await ring.producer(0);
      await send(p, 0, 0, 20);
      await p.flush(10_000);
      expect(total(rec.acked)).toBe(20);
      const secondaryDir = path.join(ctx.runDir, 'data', 'ringbuffer', 'replica-1');
      expect(journalMessages(secondaryDir, 0)).toBe(20);

      // A secondary that cannot answer (stopped, its connection still open) holds every ack back.
      process.kill(secondary.pid, 'SIGSTOP');
      try {
        await send(p, 0, 20, 30);
        await sleep(500);
        expect(total(rec.acked)).toBe(20);
      } finally {
        process.kill(secondary.pid, 'SIGCONT');
      }
      await p.flush(10_000);
      expect(total(rec.acked)).toBe(50);
      expect(journalMessages(secondaryDir, 0)).toBe(50);
      const c = await ring.consumer(0);
      expect(seqsOf(await consume(c, 50), 0)).toEqual(range(0, 50));
      await c.close();
      await p.close();
    } finally {
      await ring.session.close();
    }
  });

  it('kill -9 of the primary under load: the secondary takes over before any restart, and no acknowledged message is lost', T, async () => {
    const ring = await openRing(context(1, 1, { process: 'child', journal: 'fsync', replicas: 2 }));
    try {
      const { p, rec } = await ring.producer(0);
      const c = await ring.consumer(0);
      const sender = keepSending(p);
      const received: Array<[number, number]> = [];
      await until('some acks', () => total(rec.acked) >= 300);
      received.push(...(await consume(c, 100, { quietMs: 0 })));
      await ring.session.faults!.kill();
      const ackedAtKill = total(rec.acked);
      // Service restored with the killed one still down: new publishes are acknowledged.
      await until('acks from the secondary', () => total(rec.acked) >= ackedAtKill + 200);
      const sent = await sender.stop();
      await p.flush(10_000);
      expect(rec.unknown).toEqual([]);
      expect(rec.failed).toEqual([]);
      expect(total(rec.acked)).toBe(sent);
      received.push(...(await consume(c, sent - received.length)));
      const got = new Set(seqsOf(received, 0));
      expect(ackedSeqs(rec).filter((s) => !got.has(s))).toEqual([]);
      await ring.session.faults!.restart();
      await c.close();
      await p.close();
    } finally {
      await ring.session.close();
    }
  });

  it('a restarted replica catches up (messages acknowledged while it was down included) and can take over in turn', T, async () => {
    const ring = await openRing(context(1, 1, { process: 'child', journal: 'fsync', replicas: 2, dedup: 'on' }));
    try {
      const { p, rec } = await ring.producer(0);
      await send(p, 0, 0, 100);
      await p.flush(10_000);
      await ring.session.faults!.kill(); // replica 0, the primary: replica 1 takes over
      await send(p, 0, 100, 100); // acknowledged by replica 1 alone
      await p.flush(10_000);
      expect(total(rec.acked)).toBe(200);
      await ring.session.faults!.restart(); // replica 0 again, now the secondary: it catches up
      await send(p, 0, 200, 10); // acknowledged only once replica 0 holds 0..209
      await p.flush(10_000);
      expect(total(rec.acked)).toBe(210);
      await ring.session.faults!.kill(); // replica 1, the primary now: replica 0 takes over
      await send(p, 0, 210, 10);
      await p.flush(10_000);
      expect(total(rec.acked)).toBe(220);
      expect(rec.unknown).toEqual([]);
      const c = await ring.consumer(0);
      // dedup on: the re-sends around each kill were dropped, so each message exactly once
      expect(seqsOf(await consume(c, 220), 0)).toEqual(range(0, 220));
      await ring.session.faults!.restart();
      expect((await ring.session.brokerCounts!()).stored).toBe(220);
      await c.close();
      await p.close();
    } finally {
      await ring.session.close();
    }
  });

  it('kill -9 of the secondary: the primary goes on acknowledging alone, and loses nothing', T, async () => {
    const ring = await openRing(context(1, 1, { process: 'child', journal: 'fsync', replicas: 2, killReplica: 'secondary' }));
    try {
      const { p, rec } = await ring.producer(0);
      await send(p, 0, 0, 50);
      await p.flush(10_000);
      await ring.session.faults!.kill();
      await send(p, 0, 50, 50);
      await p.flush(10_000);
      expect(total(rec.acked)).toBe(100);
      await ring.session.faults!.restart();
      await send(p, 0, 100, 10);
      await p.flush(10_000);
      const c = await ring.consumer(0);
      expect(seqsOf(await consume(c, 110), 0)).toEqual(range(0, 110));
      await c.close();
      await p.close();
    } finally {
      await ring.session.close();
    }
  });
});
