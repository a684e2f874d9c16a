/**
 * The child-process mode through the contract: a real ring server process, producers and
 * consumers as the harness's workers build them (here in one thread, stepped by hand).
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RingServerProcess } from '../../src/adapters/ringbuffer/child/server-process.ts';
import { canConnect } from '../../src/brokers/common/ports.ts';
import { consume, context, openRing, processAlive, range, removeTempDirs, send, seqsOf, tempDir, total } from './child-helpers.ts';

const config = (s: { config: Record<string, unknown> }): { address: string; pid: number } => s.config.server as { address: string; pid: number };

afterAll(removeTempDirs);

describe('ringbuffer child mode', () => {
  it('moves every message from two producers to two consumers, per producer in order, each lane to one consumer', { timeout: 60_000 }, async () => {
    const ring = await openRing(context(3, 2, { process: 'child' }));
    try {
      const prods = await Promise.all([0, 1, 2].map((id) => ring.producer(id)));
      const cons = await Promise.all([0, 1].map((id) => ring.consumer(id)));
      for (let round = 0; round < 20; round++) {
        for (let p = 0; p < 3; p++) await send(prods[p]!.p, p, round * 50, 50);
      }
      for (const { p } of prods) await p.flush(10_000);
      for (const { rec } of prods) {
        expect(total(rec.acked)).toBe(1000);
        expect(rec.failed).toEqual([]);
        expect(rec.unknown).toEqual([]);
      }
      const got = await Promise.all([consume(cons[0]!, 2000), consume(cons[1]!, 1000)]);
      // consumer 0 serves lanes 0 and 2, consumer 1 lane 1
      expect(seqsOf(got[0], 0)).toEqual(range(0, 1000));
      expect(seqsOf(got[0], 2)).toEqual(range(0, 1000));
      expect(seqsOf(got[1], 1)).toEqual(range(0, 1000));
      expect(got[0].length + got[1].length).toBe(3000);
      for (const c of cons) await c.close();
      for (const { p } of prods) await p.close();
    } finally {
      await ring.session.close();
    }
  });

  it('records its configuration and leaves no process or port behind on close', { timeout: 60_000 }, async () => {
    const ring = await openRing(context(2, 1, { process: 'child', journal: 'fsync', capacity: '64KiB' }));
    const server = config(ring.session);
    expect(ring.session.config).toMatchObject({ process: 'child', journal: 'fsync', dedup: 'off', capacity: 65536, lanes: 2 });
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const port = Number(server.address.split(':')[1]);
    expect(processAlive(server.pid)).toBe(true);
    expect(ring.session.faults?.fault).toMatch(/kill -9 of the ring-buffer server process.*page cache survives/);
    await ring.session.close();
    await ring.session.close();
    expect(processAlive(server.pid)).toBe(false);
    expect(await canConnect(port)).toBe(false);
  });

  it('waits for room when a lane is full (back-pressure), and the consumer frees it', { timeout: 60_000 }, async () => {
    // 1 KiB lanes: 16 messages of 64 bytes fit; 200 must wait for the consumer.
    const ring = await openRing(context(1, 1, { process: 'child', capacity: 1024 }));
    try {
      const { p, rec } = await ring.producer(0);
      const c = await ring.consumer(0);
      const sending = send(p, 0, 0, 200).then(() => p.flush(20_000));
      const got = await consume(c, 200);
      await sending;
      expect(seqsOf(got, 0)).toEqual(range(0, 200));
      expect(total(rec.acked)).toBe(200);
      await c.close();
      await p.close();
    } finally {
      await ring.session.close();
    }
  });

  it('reports the lane counters of stage 0 as broker counts', { timeout: 60_000 }, async () => {
    const ring = await openRing(context(1, 1, { process: 'child' }));
    try {
      const { p } = await ring.producer(0);
      const c = await ring.consumer(0);
      await send(p, 0, 0, 30);
      await p.flush(10_000);
      await consume(c, 10, { quietMs: 0 }).then(async () => undefined);
      const counts = await ring.session.brokerCounts!();
      expect(counts.stored).toBe(30);
      expect(counts.source).toMatch(/ring server/);
      await c.close();
      await p.close();
    } finally {
      await ring.session.close();
    }
  });

  it('a server that cannot start fails with its log tail in the error', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const server = new RingServerProcess({ dataDir: dir, lanes: 0, capacity: 1024, journal: 'none', dedup: false }, path.join(dir, 'server.log'));
    await expect(server.start()).rejects.toThrow(/ring server exited during start[\s\S]*last lines of the broker log[\s\S]*bad configuration argument/);
  });

  it('a server that dies during the run (not by the fault injector) fails brokerCounts and close() with its log tail', { timeout: 60_000 }, async () => {
    const ring = await openRing(context(1, 1, { process: 'child' }));
    const { pid } = config(ring.session);
    process.kill(pid, 'SIGKILL');
    await expect(ring.session.brokerCounts!()).rejects.toThrow(/exited/);
    await expect(ring.session.close()).rejects.toThrow(/ring server \(pid \d+\) exited[\s\S]*last lines of the broker log[\s\S]*listening on 127\.0\.0\.1/);
    expect(processAlive(pid)).toBe(false);
  });
});
