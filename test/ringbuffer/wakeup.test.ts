/**
 * Wait mode block must be woken by the other side, not by its periodic re-check: a lost
 * wake-up would otherwise hide behind the 5 ms slice as a latency spike. The sleeper
 * runs in a worker with a 20 s slice; the test acts as the other side once it sees the
 * sleeper's "parked" word set. A park that ends by timeout is a lost wake-up.
 */
import { describe, expect, it } from 'vitest';
import { createDoorbells, createLane, openLane, type Lane } from '../../src/adapters/ringbuffer/layout.ts';
import { LaneReader } from '../../src/adapters/ringbuffer/lane-reader.ts';
import { LaneWriter } from '../../src/adapters/ringbuffer/lane-writer.ts';
import { spawnTsWorker } from '../../src/core/ts-worker.ts';
import { batchBytes } from './helpers.ts';
import type { WakeJob, WakeReport } from './wake-thread.ts';

const SLICE_MS = 20_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function start(job: WakeJob): Promise<WakeReport> {
  const w = spawnTsWorker(new URL('./wake-thread.ts', import.meta.url), job as unknown as Record<string, unknown>);
  return new Promise((resolve, reject) => {
    w.once('message', (m: WakeReport) => {
      void w.terminate();
      resolve(m);
    });
    w.once('error', reject);
  });
}

async function parked(lane: Lane, word: number): Promise<void> {
  while (Atomics.load(lane.words, word) === 0) await sleep(1);
}

describe('ringbuffer wait mode block', () => {
  it('a parked consumer is woken by the producer publishing', async () => {
    const sab = createLane(1024, true);
    const doorbells = createDoorbells(1);
    const lane = openLane(sab, true);
    const report = start({ role: 'consumer', lane: sab, doorbells, sliceMs: SLICE_MS });
    await parked(lane, lane.at.consumerParked);
    new LaneWriter(lane, new Int32Array(doorbells), 0).write(batchBytes(0, 3, 50), 0, 50, 3);
    const r = await report;
    expect(r.count).toBe(3);
    expect(r.stats.parks).toBeGreaterThan(0);
    expect(r.stats.timeouts).toBe(0);
  });

  it('a producer parked on a full lane is woken by the consumer committing', async () => {
    const sab = createLane(1024, true);
    const lane = openLane(sab, true);
    const report = start({ role: 'producer', lane: sab, doorbells: createDoorbells(1), sliceMs: SLICE_MS });
    await parked(lane, lane.at.producerParked);
    const reader = new LaneReader(lane);
    let received = reader.read(100).count;
    reader.commit();
    const r = await report;
    received += reader.read(100).count;
    expect([r.count, received]).toEqual([20, 20]);
    expect(r.stats.parks).toBeGreaterThan(0);
    expect(r.stats.timeouts).toBe(0);
  });
});
