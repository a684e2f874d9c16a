/**
 * ring-perf's figure type and formats, and the reference points measured on the main
 * thread alone: memcpy, the harness floor, scheduling noise.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { monoNs } from '../src/core/clock.ts';
import { encodeTemplate, readSentNs, stampBatch } from '../src/core/envelope.ts';
import { LatencyRecorder, type LatencySummary } from '../src/core/histogram.ts';

export const SIZE = 512;
export const WARMUP_MS = 500;
/**
 * Warm-up of the open-loop figures. At 1 M msg/s the first second runs while V8 still
 * compiles the loops (the warm-up's own intervals show p99 of 40-100 ms falling to a few
 * ms over ~1.5 s): a figure of the ring's latency starts after that, as the CLI's
 * latency scenario does after its warm-up.
 */
export const OPEN_LOOP_WARMUP_MS = 2000;

export interface Figure {
  name: string;
  msgsPerSec: number;
  latency?: LatencySummary;
  note?: string;
  /** share of the machine's CPU that other processes used meanwhile */
  otherLoad?: number;
  /** open loop: where the latency went (ring-perf-probe.ts) */
  breakdown?: string[];
  /** closed loop: each side's working time per message, its waits for the other side taken out */
  busyNs?: { producer: number; consumer: number };
  /** open loop: each worker thread's time off its loop (run queue + its own GC), ms per second of the window */
  stallMsPerSec?: { producer: number; consumer: number };
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

/** What a spinning thread lost to the machine (preemption, hypervisor, interrupts), its own GC apart. */
export interface Noise {
  seconds: number;
  /** every gap longer than NOISE_MIN_GAP_NS between two consecutive clock reads that no GC of the thread explains, ns */
  gaps: number[];
  /** the thread's own collections meanwhile (the loop allocates a little), and the gaps they explain */
  gcCount: number;
  gcMs: number;
  gcGaps: number;
  /** hypervisor steal over both vCPUs meanwhile, as a share */
  steal: number;
}

const NOISE_MIN_GAP_NS = 10e3;
/** room for 100,000 gaps (1.6 MB): far more than a few seconds of spinning shows */
const MAX_GAPS = 100_000;

/**
 * Spins until `endNs`, writing every gap longer than NOISE_MIN_GAP_NS between two
 * consecutive clock reads into `out` as (from, to) pairs; returns how many. The previous
 * read lives in a Float64Array, not a local: V8 boxes a double carried from one
 * iteration of a loop to the next when it comes from a call, one HeapNumber per clock
 * read, and the collections that garbage causes would be measured as noise.
 */
export function spinGaps(endNs: number, out: Float64Array): number {
  const prev = new Float64Array(1);
  prev[0] = monoNs();
  let n = 0;
  for (;;) {
    const now = monoNs();
    if (now - prev[0]! > NOISE_MIN_GAP_NS && n + 2 <= out.length) {
      out[n] = prev[0]!;
      out[n + 1] = now;
      n += 2;
    }
    prev[0] = now;
    if (now >= endNs) break;
  }
  return n / 2;
}

/** The calling thread's GC pauses from now until stop(), on monoNs's time line. */
function watchGc(): { stop: () => Promise<Array<[number, number]>> } {
  const gcs: Array<[number, number]> = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push([e.startTime, e.startTime + e.duration]);
  });
  obs.observe({ entryTypes: ['gc'] });
  const perfToMonoNs = monoNs() - performance.now() * 1e6;
  return {
    stop: async () => {
      await new Promise((r) => setTimeout(r, 50)); // the observer reports asynchronously
      obs.disconnect();
      return gcs.map(([a, b]) => [a * 1e6 + perfToMonoNs, b * 1e6 + perfToMonoNs]);
    },
  };
}

/**
 * What the calling thread loses to the machine while it spins for `seconds`: gaps
 * between two clock reads longer than 10 µs. No transport can have a tail latency below
 * what its threads lose this way. A gap that overlaps one of the thread's own GC pauses
 * (reported by a PerformanceObserver, on performance.now()'s time line, mapped onto
 * monoNs's) is ours, not the machine's, and counted apart. `warmupNs` of spinning first
 * lets V8 optimize the loop (its compilation on a helper thread is not the machine's).
 */
export async function spinNoise(seconds: number, ticks: () => { steal: number; total: number }, warmupNs = 0): Promise<Noise> {
  const out = new Float64Array(2 * MAX_GAPS);
  if (warmupNs > 0) spinGaps(monoNs() + warmupNs, out);
  const gc = watchGc();
  const t0 = ticks();
  const fromNs = monoNs();
  const count = spinGaps(fromNs + seconds * 1e9, out);
  const toNs = monoNs();
  const t1 = ticks();
  // 20 µs of slack either side: the two time lines agree to about a clock read
  const pauses = (await gc.stop()).filter(([a, b]) => a < toNs && b > fromNs).map(([a, b]) => [a - 20e3, b + 20e3] as const);
  const ours = (a: number, b: number): boolean => pauses.some(([x, y]) => a < y && b > x);
  const gaps: number[] = [];
  let gcGaps = 0;
  for (let k = 0; k < count; k++) {
    const a = out[2 * k]!;
    const b = out[2 * k + 1]!;
    if (ours(a, b)) gcGaps++;
    else gaps.push(b - a);
  }
  return {
    seconds,
    gaps,
    gcCount: pauses.length,
    gcMs: pauses.reduce((acc, [a, b]) => acc + (b - a - 40e3) / 1e6, 0),
    gcGaps,
    steal: (t1.steal - t0.steal) / Math.max(1, t1.total - t0.total),
  };
}

/**
 * The share of messages that noise alone delays by more than `xNs`, for messages arriving
 * evenly in time at `threads` threads that each lose the CPU like the measured one: an
 * arrival during a gap of length g waits for the rest of it, so the share is
 * threads * sum(max(0, g - x)) / T. Above 1%, no p99 below x is possible on this machine.
 */
export function noiseShareAbove(n: Noise, xNs: number, threads: number): number {
  let late = 0;
  for (const g of n.gaps) if (g > xNs) late += g - xNs;
  return (threads * late) / (n.seconds * 1e9);
}

/** The smallest x (µs, to 1 µs) with noiseShareAbove(x) ≤ 1%: the p99 floor noise leaves. */
export function noiseP99FloorUs(n: Noise, threads: number): number {
  let x = 0;
  while (noiseShareAbove(n, x * 1e3, threads) > 0.01) x++;
  return x;
}

/**
 * The same floor for threads measured together, each with its own noise: a message goes
 * through all of them, so the shares they delay add up (to first order).
 */
export function pairP99FloorUs(noises: Noise[]): number {
  let x = 0;
  while (noises.reduce((acc, n) => acc + noiseShareAbove(n, x * 1e3, 1), 0) > 0.01) x++;
  return x;
}

/**
 * The CPU the threads got, in vCPUs: each thread's time minus its gaps. Two threads
 * that only read the clock and get well under 2 show a machine that does not give two
 * busy vCPUs their whole time (a host's quota or its other guests), whatever runs on them.
 */
export function cpusGot(noises: Noise[]): number {
  return noises.reduce((acc, n) => acc + 1 - n.gaps.reduce((a, g) => a + g, 0) / (n.seconds * 1e9), 0);
}

export function noiseLine(n: Noise): string {
  const lost = n.gaps.filter((g) => g > 50e3);
  const lostNs = lost.reduce((a, g) => a + g, 0);
  const longest = n.gaps.reduce((a, g) => Math.max(a, g), 0);
  return (
    `scheduling noise: a spinning thread lost ${((100 * lostNs) / (n.seconds * 1e9)).toFixed(1)}% of ${n.seconds} s in ${lost.length} gaps > 50 µs, the longest ${(longest / 1e3).toFixed(0)} µs ` +
    `(not counting ${n.gcGaps} gaps its own ${n.gcCount} GC pauses, ${n.gcMs.toFixed(1)} ms, explain; hypervisor steal ${(100 * n.steal).toFixed(1)}% of both vCPUs)`
  );
}

/** Sorts an open-loop figure (it has a breakdown; its throughput is the offered rate) by p99, any other by throughput. */
const medianKey = (f: Figure): number => (f.breakdown ? (f.latency?.p99 ?? Number.POSITIVE_INFINITY) : f.msgsPerSec);

/** The round whose run is the median one (the lower middle of an even count). */
export function medianRound(runs: Figure[]): number {
  const order = runs.map((_, i) => i).sort((a, b) => medianKey(runs[a]!) - medianKey(runs[b]!));
  return order[Math.floor((order.length - 1) / 2)]!;
}

export const verdict = (met: boolean): string => (met ? 'MET' : 'NOT MET');

/**
 * Where the floor puts a target out of reach, the figure this run could have reached
 * instead: the floor itself, what two threads doing nothing but reading the clock got in
 * the same round, so that what lies between it and the measurement is the ring's and the
 * harness's. Every round's pair is shown: a round whose floor lies far above its p99
 * had its floor measured in a noisier stretch, and says little either way.
 */
export function achievableLine(p99Us: number, kept: boolean, floorUs: number, rounds: Figure[], floors: number[]): string {
  const met = kept && p99Us <= floorUs * 1.1;
  const each = rounds.length > 1 ? `; per round, p99 / that round's floor: ${rounds.map((f, i) => `${fmtUs(f.latency?.p99)} / ${floors[i]} µs`).join(', ')}` : '';
  const below = p99Us < floorUs / 2 ? ' (below the floor: the floor\'s seconds were the noisier ones)' : '';
  return `best achievable in this run: p99 at the two-spinner floor of the same round, ${floorUs} µs (within 10%): measured ${fmtUs(p99Us)} µs, ${(p99Us / floorUs).toFixed(1)}x the floor${below}: ${verdict(met)}${each}`;
}
