/**
 * kill -9 of the ring server and restart, through the session's FaultInjector, with real
 * processes: what an acknowledged message is worth with and without the journal, and
 * how clients ride out the downtime.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { consume, context, openRing, range, removeTempDirs, send, seqsOf, total } from './child-helpers.ts';
import type { SystemSession } from '../../src/core/contract.ts';

const T = { timeout: 60_000 };

async function untilCommitted(session: SystemSession, n: number): Promise<void> {
  for (let i = 0; i < 500 && (await session.brokerCounts!()).delivered !== n; i++) await new Promise((r) => setTimeout(r, 20));
  expect((await session.brokerCounts!()).delivered).toBe(n);
}

afterAll(removeTempDirs);

describe('ringbuffer child mode under kill -9', () => {
  it('journal fsync: every acknowledged message is delivered after the restart, from the last commit on', T, async () => {
    const ring = await openRing(context(1, 1, { process: 'child', journal: 'fsync' }));
    try {
      const { p, rec } = await ring.producer(0);
      const c = await ring.consumer(0);
      await send(p, 0, 0, 500);
      await p.flush(10_000);
      expect(total(rec.acked)).toBe(500);
      const committed = await consume(c, 200, { quietMs: 0 });
      const uncommitted = await consume(c, 50, { ack: false, quietMs: 0 });
      expect(committed.length + uncommitted.length).toBeLessThan(500);
      // Commits are one-way frames: let the server have them before the kill, so the
      // restart must resume exactly there (a commit lost in flight would only mean more
      // redelivery, which this test does not want to depend on).
      await untilCommitted(ring.session, committed.length);

      await ring.session.faults!.kill();
      await ring.session.faults!.restart();
      // The clients reconnect by themselves; the producer goes on where it was.
      await send(p, 0, 500, 100);
      await p.flush(10_000);
      expect(total(rec.acked)).toBe(600);
      expect(rec.unknown).toEqual([]);
      const after = await consume(c, 600 - committed.length);
      expect(seqsOf(after, 0)).toEqual(range(committed.length, 600));
      await c.close();
      await p.close();
    } finally {
      await ring.session.close();
    }
  });

  it('journal none: acknowledged but unconsumed messages are gone after the restart; new ones flow', T, async () => {
    const ring = await openRing(context(1, 1, { process: 'child' }));
    try {
      const { p, rec } = await ring.producer(0);
      const c = await ring.consumer(0);
      await send(p, 0, 0, 500);
      await p.flush(10_000);
      expect(total(rec.acked)).toBe(500);
      const committed = await consume(c, 200, { quietMs: 0 });

      await ring.session.faults!.kill();
      await ring.session.faults!.restart();
      await send(p, 0, 500, 100);
      await p.flush(10_000);
      const after = await consume(c, 100);
      // nothing between the last commit and the kill survived: lost although acknowledged
      expect(seqsOf(after, 0)).toEqual(range(500, 600));
      expect(committed.length).toBeLessThan(500);
      const counts = await ring.session.brokerCounts!();
      expect(counts.stored).toBeUndefined(); // restarted empty: no count comparable with the ledger
      await c.close();
      await p.close();
    } finally {
      await ring.session.close();
    }
  });

  it('journal fsync with dedup: the last sequence per producer is recovered, so a re-send after the restart is dropped', T, async () => {
    const ring = await openRing(context(1, 1, { process: 'child', journal: 'fsync', dedup: 'on' }));
    try {
      const { p, rec } = await ring.producer(0);
      const c = await ring.consumer(0);
      await send(p, 0, 0, 100);
      await p.flush(10_000);
      expect(seqsOf(await consume(c, 100), 0)).toEqual(range(0, 100));
      await untilCommitted(ring.session, 100);
      await ring.session.faults!.kill();
      await ring.session.faults!.restart();
      await send(p, 0, 60, 50); // 60..99 held (and consumed) already, 100..109 new
      await p.flush(10_000);
      expect(total(rec.acked)).toBe(150);
      expect(seqsOf(await consume(c, 10), 0)).toEqual(range(100, 110));
      await c.close();
      await p.close();
    } finally {
      await ring.session.close();
    }
  });

  it('messages awaiting an ack at the kill are sent again, in order, once the server is back; a later retry of them is a duplicate', T, async () => {
    // 1 KiB lanes: 16 messages fit and are stored (journal); the other 24 wait in the
    // server, unacknowledged and never stored, when it is killed.
    const ring = await openRing(context(1, 1, { process: 'child', capacity: 1024, journal: 'fsync', dedup: 'on' }));
    try {
      const { p, rec } = await ring.producer(0);
      await send(p, 0, 0, 40);
      for (let i = 0; i < 500 && total(rec.acked) < 16; i++) await new Promise((r) => setTimeout(r, 20));
      expect(total(rec.acked)).toBe(16);
      await ring.session.faults!.kill();
      // Let the producer see the connection close: a send into a socket whose peer just
      // died is taken (and kept for the resend), so only after the close does send wait.
      await new Promise((r) => setTimeout(r, 300));

      let sent = false;
      const sending = send(p, 0, 40, 5).then(() => (sent = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(sent).toBe(false);
      await ring.session.faults!.restart();
      await sending;
      const c = await ring.consumer(0);
      // Had the producer moved on to 40.. and left 16..39 behind, deduplication by
      // highest sequence would later take a retry of them for a duplicate.
      expect(seqsOf(await consume(c, 45), 0)).toEqual(range(0, 45));
      await p.flush(10_000);
      expect(total(rec.acked)).toBe(45);
      expect(rec.unknown).toEqual([]);
      // A retry of messages that were in flight at the kill: stored already, so acknowledged and dropped.
      await send(p, 0, 16, 16);
      await p.flush(10_000);
      expect(total(rec.acked)).toBe(61);
      expect(await consume(c, 0, { quietMs: 500, deadlineMs: 1_000 })).toEqual([]);
      expect(rec.failed).toEqual([]);
      await p.close();
    } finally {
      await ring.session.close();
    }
  });

  it('a send while the server is down gives up when the run stops: the unsent rest is failed', T, async () => {
    const ring = await openRing(context(1, 1, { process: 'child' }));
    try {
      const control = { stop: false, stopping: () => control.stop };
      const { p, rec } = await ring.producer(0, 0, control);
      await ring.session.faults!.kill();
      const sending = send(p, 0, 0, 10);
      await new Promise((r) => setTimeout(r, 200));
      control.stop = true;
      await sending;
      expect(rec.failed).toEqual([[0, 10, expect.stringMatching(/run stopped/)]]);
      expect(rec.acked).toEqual([]);
      await p.close();
    } finally {
      await ring.session.close();
    }
  });
});
