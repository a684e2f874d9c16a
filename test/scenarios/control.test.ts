/**
 * The control block's timeline: published whole to another thread, and a pull-forward of
 * the window's end that never pushes it back.
 */
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { Control } from '../../src/harness/control.ts';

describe('control timeline', () => {
  it('round-trips integer ns and pulls the end only forward', () => {
    const c = Control.create(1);
    expect(c.timeline()).toEqual({ startNs: 0, measureStartNs: 0, measureEndNs: 0 });
    c.setTimeline({ startNs: 5_000_000_123, measureStartNs: 7_000_000_123, measureEndNs: 17_000_000_123 });
    c.endMeasurementNow(20_000_000_000);
    expect(c.timeline().measureEndNs).toBe(17_000_000_123);
    c.endMeasurementNow(12_000_000_000);
    c.endMeasurementNow(15_000_000_000);
    expect(c.timeline()).toEqual({ startNs: 5_000_000_123, measureStartNs: 7_000_000_123, measureEndNs: 12_000_000_000 });
    c.markFault(9_000_000_001);
    expect(c.faultNs()).toBe(9_000_000_001);
  });

  it('shows every later write to a reader that already read (and cached) the timeline', () => {
    const writer = Control.create(1);
    const reader = new Control(writer.buffers);
    writer.setTimeline({ startNs: 1e9, measureStartNs: 2e9, measureEndNs: 3e9 });
    const first = reader.timeline();
    expect(first).toEqual({ startNs: 1e9, measureStartNs: 2e9, measureEndNs: 3e9 });
    expect(reader.timeline()).toBe(first); // unchanged: the same snapshot, nothing decoded again
    expect(reader.faultNs()).toBe(0);
    writer.endMeasurementNow(2.5e9);
    writer.markFault(2.2e9);
    expect(reader.timeline().measureEndNs).toBe(2.5e9);
    expect(reader.faultNs()).toBe(2.2e9);
    expect(first.measureEndNs).toBe(3e9); // a snapshot taken before stays as it was
    writer.pauseConsumersFrom(2e9);
    expect(reader.consumersPaused(2.1e9)).toBe(true);
    writer.resumeConsumers(2.3e9);
    expect([reader.consumersPaused(2.4e9), reader.resumedNs()]).toEqual([false, 2.3e9]);
    writer.closeWindowAsPlanned(2.4e9);
    expect([reader.windowClosedAsPlanned(), reader.timeline().measureEndNs]).toEqual([true, 2.4e9]);
  });

  it('is seen whole by a thread that polls it', async () => {
    const c = Control.create(1);
    // the reader polls startNs and, once set, reports the rest as it reads it
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      const t = new BigInt64Array(workerData);
      while (Atomics.load(t, 0) === 0n);
      parentPort.postMessage([Atomics.load(t, 0), Atomics.load(t, 1), Atomics.load(t, 2)].map(Number));
    `;
    const w = new Worker(code, { eval: true, workerData: c.buffers.timeline });
    const seen = new Promise<number[]>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await new Promise((r) => setTimeout(r, 20));
    c.setTimeline({ startNs: 1e9, measureStartNs: 2e9, measureEndNs: 3e9 });
    expect(await seen).toEqual([1e9, 2e9, 3e9]);
    await w.terminate();
  });
});
