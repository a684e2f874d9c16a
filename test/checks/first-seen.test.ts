import { describe, expect, it } from 'vitest';
import type { Worker } from 'node:worker_threads';
import { FirstSeen, createFirstSeen } from '../../src/checks/first-seen.ts';
import { spawnTsWorker } from '../../src/core/ts-worker.ts';
import type { MarkJob } from './first-seen-thread.ts';

const ENTRY = new URL('./first-seen-thread.ts', import.meta.url);

function reportOf(w: Worker): Promise<number[]> {
  return new Promise((resolve, reject) => {
    w.once('message', (m: number[]) => resolve(m));
    w.once('error', reject);
  });
}

describe('FirstSeen', () => {
  it('says first once per (producer, sequence), across growth', () => {
    const seen = new FirstSeen(createFirstSeen(2));
    // 2^22 is past the first step of the buffer: it has to grow
    for (const seq of [0, 31, 32, 1 << 22]) {
      expect(seen.mark(0, seq)).toBe(true);
      expect(seen.mark(0, seq)).toBe(false);
    }
    expect(seen.mark(1, 31)).toBe(true);
    expect(seen.mark(1, 1 << 22)).toBe(true);
    expect(seen.mark(1, 30)).toBe(true);
  });

  it('counts a message the run cannot hold as first rather than throwing', () => {
    const seen = new FirstSeen(createFirstSeen(1));
    expect(seen.mark(5, 0)).toBe(true);
    expect(seen.mark(0, -1)).toBe(true);
    expect(seen.mark(0, 2 ** 32)).toBe(true);
  });

  it('gives each message to exactly one of two threads marking the same sequences', { timeout: 60_000 }, async () => {
    const count = 3_000_000;
    const buffers = createFirstSeen(2);
    const job: MarkJob = { buffers, count, start: new SharedArrayBuffer(4), threads: 2 };
    const workers = [0, 1].map(() => spawnTsWorker(ENTRY, job as unknown as Record<string, unknown>));
    try {
      const [a, b] = await Promise.all(workers.map(reportOf));
      expect([a![0]! + b![0]!, a![1]! + b![1]!]).toEqual([count, count]);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });
});
