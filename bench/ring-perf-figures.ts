/**
 * ring-perf's figure type and formats, and the reference points measured on the main
 * thread alone: memcpy, the harness floor, scheduling noise.
 */
import { monoNs } from '../src/core/clock.ts';
import { encodeTemplate, readSentNs, stampBatch } from '../src/core/envelope.ts';
import { LatencyRecorder, type LatencySummary } from '../src/core/histogram.ts';

export const SIZE = 512;
export const WARMUP_MS = 500;

export interface Figure {
  name: string;
  msgsPerSec: number;
  latency?: LatencySummary;
  note?: string;
  /** share of the machine's CPU that other processes used meanwhile */
  otherLoad?: number;
}

export const fmtRate = (r: number): string => (r >= 1e6 ? `${(r / 1e6).toFixed(2)} M/s` : `${(r / 1e3).toFixed(1)} k/s`);
export const fmtUs = (v: number | undefined): string => (v === undefined ? '' : v.toFixed(1));

/** Runs `step` (which handles `perStep` messages) for `seconds`; returns messages per second. */
function rateOf(seconds: number, perStep: number, step: () => void): number {
  for (let i = 0; i < 1000; i++) step();
  const t0 = monoNs();
  const until = t0 + seconds * 1e9;
  let n = 0;
  let now = t0;
  while (now < until) {
    for (let i = 0; i < 100; i++) step();
    n += 100 * perStep;
    now = monoNs();
  }
  return (n * 1e9) / (now - t0);
}

export function memcpyFigure(seconds: number, shared: boolean): Figure {
  const src = new Uint8Array(SIZE).fill(0x78);
  const dst = new Uint8Array(shared ? new SharedArrayBuffer(1 << 20) : new ArrayBuffer(1 << 20));
  let off = 0;
  const msgsPerSec = rateOf(seconds, 1, () => {
    dst.set(src, off);
    off = (off + SIZE) & ((1 << 20) - 1);
  });
  return { name: `512-byte memcpy (Uint8Array.set) into ${shared ? 'SharedArrayBuffer' : 'ArrayBuffer'}`, msgsPerSec, note: 'one thread, 8-aligned' };
}

/**
 * What the harness itself costs per message with no transport at all. The producer half
 * is the producer loop's own stamping (stampBatch); the harness's loops need a transport
 * and a thread each, so the consumer half is a minimal loop doing the consumer loop's
 * per-message latency work (decode sent_ns, record runs of equal values).
 */
export function floorFigures(seconds: number, batch: number): Array<() => Figure> {
  const template = encodeTemplate(SIZE, 0);
  const staging = new Uint8Array(SIZE * batch);
  for (let i = 0; i < batch; i++) staging.set(template, i * SIZE);
  const rec = new LatencyRecorder();
  let seq = 0;
  const stampOnce = (): void => {
    stampBatch(staging, SIZE, batch, seq, monoNs(), Date.now());
    seq += batch;
  };
  const decodeBatch = (): void => {
    const now = monoNs();
    let runValue = -1;
    let runCount = 0;
    for (let i = 0; i < batch; i++) {
      const v = now - readSentNs(staging, i * SIZE);
      if (v === runValue) runCount++;
      else {
        if (runCount > 0) rec.recordMany(runValue, runCount);
        runValue = v;
        runCount = 1;
      }
    }
    if (runCount > 0) rec.recordMany(runValue, runCount);
  };
  return [
    () => ({
      name: 'harness floor: stamp + decode + record, null hand-off',
      msgsPerSec: rateOf(seconds, batch, () => {
        stampOnce();
        decodeBatch();
      }),
      note: 'one thread',
    }),
    () => ({ name: '  producer half: stamp only', msgsPerSec: rateOf(seconds, batch, stampOnce), note: 'main thread; see the in-worker split above' }),
    () => ({ name: '  consumer half: decode sent_ns + record only', msgsPerSec: rateOf(seconds, batch, decodeBatch), note: 'main thread' }),
  ];
}

/**
 * How often a spinning thread is not running: time lost in gaps between two clock reads
 * longer than 50 µs (preemption, hypervisor, interrupts). No transport can have a tail
 * latency below what this thread loses.
 */
export function schedulingNoise(seconds: number): string {
  let prev = monoNs();
  const end = prev + seconds * 1e9;
  let lostNs = 0;
  let gaps = 0;
  let longest = 0;
  for (;;) {
    const now = monoNs();
    const gap = now - prev;
    prev = now;
    if (gap > 50e3) {
      lostNs += gap;
      gaps++;
      if (gap > longest) longest = gap;
    }
    if (now >= end) break;
  }
  return `scheduling noise: a spinning thread lost ${((100 * lostNs) / (seconds * 1e9)).toFixed(1)}% of ${seconds} s in ${gaps} gaps > 50 µs, the longest ${(longest / 1e3).toFixed(0)} µs`;
}
