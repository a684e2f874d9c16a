/**
 * Where an open-loop figure's tail comes from: what ring-perf's probed worker side
 * (ring-perf-side.ts) measures in each worker thread over the measured window, and what
 * the main thread and the machine did meanwhile.
 *
 *   slip     intended send time -> hand-over to the ring (the harness's send delay)
 *   transit  hand-over -> the consumer's receipt, per message, from a shared table of
 *            hand-over times the producer side fills (sequence -> monoNs)
 *   wake-up  the same, for the messages of receives during which the consumer parked
 *   GC       the thread's V8 collections (v8.GCProfiler): count, total, longest
 *   run queue  time the OS kept the thread runnable but off a CPU (/proc/thread-self/schedstat)
 *   steal    time the hypervisor ran something else on our vCPUs (/proc/stat), and the
 *            main thread's own CPU (the runner: interval merging, timers)
 *
 * Everything here is shared memory, so the harness's typed worker messages stay as they are.
 */
import fs from 'node:fs';
import v8 from 'node:v8';
import { LatencyRecorder, valueFromIndex } from '../src/core/histogram.ts';
import type { LatencySummary } from '../src/core/histogram.ts';
import { monoNs } from '../src/core/clock.ts';

/** Float64 slots of one thread's figures. */
const GC_COUNT = 0;
const GC_TOTAL_US = 1;
const GC_MAX_US = 2;
const RUNQ_NS = 3;
const CPU_NS = 4;
const WINDOW_NS = 5;
const SLOTS = 6;
const THREADS = 2;
export const PRODUCER = 0;
export const CONSUMER = 1;

/** Hand-over times by sequence: far more than a lane holds, so a slot is never reused in flight. */
const TABLE_BITS = 18;
const TABLE_MASK = (1 << TABLE_BITS) - 1;
const COUNTS_BYTES = new LatencyRecorder().counts.byteLength;

// a type, not an interface: it travels in the worker init, which must be Cloneable
export type TailBuffers = {
  threads: SharedArrayBuffer;
  handoverNs: SharedArrayBuffer;
  handoverSeq: SharedArrayBuffer;
  transit: SharedArrayBuffer;
  wakeup: SharedArrayBuffer;
};

export function createTailBuffers(): TailBuffers {
  const seq = new SharedArrayBuffer((TABLE_MASK + 1) * 8);
  new Float64Array(seq).fill(-1);
  return {
    threads: new SharedArrayBuffer(THREADS * SLOTS * 8),
    handoverNs: new SharedArrayBuffer((TABLE_MASK + 1) * 8),
    handoverSeq: seq,
    transit: new SharedArrayBuffer(COUNTS_BYTES),
    wakeup: new SharedArrayBuffer(COUNTS_BYTES),
  };
}

/** [ns on a CPU, ns runnable but waiting for one] of the calling thread; zeros where Linux's schedstat is absent. */
export function schedstat(): [number, number] {
  try {
    const [cpu, wait] = fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    return [Number(cpu), Number(wait)];
  } catch {
    return [0, 0];
  }
}

/**
 * One worker thread's GC and scheduling over the measured window, written at its end.
 * It is called from the hot loops it watches, so it must not be what deoptimizes them at
 * the window's start (src/harness/worker/window.ts): its constructor runs a throwaway
 * probe through every phase first, and tick() evaluates the same comparisons in each.
 */
export class ThreadProbe {
  private profiler: v8.GCProfiler | undefined;
  private at: [number, number] = [0, 0];
  private startNs = 0;
  private done = false;
  /** 0 before the window, 1 inside, 2 after */
  private phase = 0;

  constructor(
    private readonly slots: Float64Array,
    private readonly base: number,
    rehearse = true,
  ) {
    if (!rehearse) return;
    const dry = new ThreadProbe(new Float64Array(slots.length), base, false);
    for (let i = 0; i < 3; i++) for (const t of [1, 2, 3]) dry.tick(t, 2, 3);
  }

  /** Call often: starts at the window's start and stops at its end. */
  tick(nowNs: number, measureStartNs: number, measureEndNs: number): void {
    const phase = measureStartNs === 0 ? 0 : (nowNs >= measureStartNs ? 1 : 0) + (nowNs >= measureEndNs ? 1 : 0);
    if (phase !== this.phase) this.enter(phase, nowNs);
  }

  private enter(phase: number, nowNs: number): void {
    if (phase >= 1 && !this.profiler && !this.done) {
      this.profiler = new v8.GCProfiler();
      this.profiler.start();
      this.at = schedstat();
      this.startNs = nowNs;
    }
    if (phase === 2) this.stop(nowNs);
    this.phase = phase;
  }

  stop(nowNs = monoNs()): void {
    if (this.done || !this.profiler) return;
    this.done = true;
    const gcs = this.profiler.stop()?.statistics ?? [];
    const [cpu, wait] = schedstat();
    const s = this.slots;
    const b = this.base;
    s[b + GC_COUNT] = gcs.length;
    s[b + GC_TOTAL_US] = gcs.reduce((a, g) => a + g.cost, 0);
    s[b + GC_MAX_US] = gcs.reduce((a, g) => Math.max(a, g.cost), 0);
    s[b + CPU_NS] = cpu - this.at[0];
    s[b + RUNQ_NS] = wait - this.at[1];
    s[b + WINDOW_NS] = nowNs - this.startNs;
  }
}

export function threadProbe(buffers: TailBuffers, thread: number): ThreadProbe {
  return new ThreadProbe(new Float64Array(buffers.threads), thread * SLOTS);
}

/** The producer side's half of the transit figure: when each sequence was handed over. */
export class HandoverTable {
  private readonly ns: Float64Array;
  private readonly seqs: Float64Array;

  constructor(b: TailBuffers) {
    this.ns = new Float64Array(b.handoverNs);
    this.seqs = new Float64Array(b.handoverSeq);
  }

  set(firstSeq: number, count: number, nowNs: number): void {
    for (let s = firstSeq; s < firstSeq + count; s++) {
      this.ns[s & TABLE_MASK] = nowNs;
      this.seqs[s & TABLE_MASK] = s;
    }
  }

  /** the hand-over time of `seq`, -1 when its slot holds another (or nothing) */
  get(seq: number): number {
    const i = seq & TABLE_MASK;
    return this.seqs[i] === seq ? this.ns[i]! : -1;
  }
}

export const transitRecorders = (b: TailBuffers): { transit: LatencyRecorder; wakeup: LatencyRecorder } => ({
  transit: new LatencyRecorder(new Float64Array(b.transit)),
  wakeup: new LatencyRecorder(new Float64Array(b.wakeup)),
});

/**
 * A summary of a recorder that lived in shared memory: its counts made it across, its
 * exact extremes did not, so they are the bounds of its first and last buckets.
 */
function sharedSummary(r: LatencyRecorder): LatencySummary | undefined {
  if (r.total === 0) return undefined;
  const c = r.counts;
  let first = 0;
  while (c[first] === 0) first++;
  let last = c.length - 1;
  while (c[last] === 0) last--;
  r.minNs = valueFromIndex(first);
  r.maxNs = valueFromIndex(last + 1);
  return r.summary();
}

/** /proc/stat's steal and busy jiffies of the whole machine; zeros where absent. */
export function machineTicks(): { steal: number; total: number } {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { steal: f[7] ?? 0, total: f.slice(0, 8).reduce((a, v) => a + v, 0) };
  } catch {
    return { steal: 0, total: 0 };
  }
}

/** The main thread's CPU in µs, where Node can tell it apart from the workers' (process.threadCpuUsage, Node ≥ 23.9). */
export function mainThreadCpuUs(): number | undefined {
  const f = (process as { threadCpuUsage?: () => { user: number; system: number } }).threadCpuUsage;
  if (typeof f !== 'function') return undefined;
  const u = f.call(process);
  return u.user + u.system;
}

export interface MainSide {
  cpuUs: number | undefined;
  gcCount: number;
  gcMaxUs: number;
  steal: number;
  ticks: number;
  wallNs: number;
}

/** Watches the main thread and the machine around a figure's run. */
export function watchMain(): () => MainSide {
  const p = new v8.GCProfiler();
  p.start();
  const cpu0 = mainThreadCpuUs();
  const t0 = machineTicks();
  const w0 = monoNs();
  return () => {
    const gcs = p.stop()?.statistics ?? [];
    const cpu1 = mainThreadCpuUs();
    const t1 = machineTicks();
    return {
      cpuUs: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0,
      gcCount: gcs.length,
      gcMaxUs: gcs.reduce((a, g) => Math.max(a, g.cost), 0),
      steal: t1.steal - t0.steal,
      ticks: t1.total - t0.total,
      wallNs: monoNs() - w0,
    };
  };
}

const us = (ns: number): string => (ns / 1e3).toFixed(1);
const pct = (part: number, whole: number): string => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '?');
const pcts = (l: LatencySummary | undefined): string => (l && l.count > 0 ? `p50 ${l.p50.toFixed(1)} p99 ${l.p99.toFixed(1)} p99.9 ${l.p999.toFixed(1)} µs` : 'no data');

/** The breakdown's lines for one figure. */
/** Each worker thread's time off its loop over the window (run queue and its own GC), ms per second. */
export function stallMsPerSec(b: TailBuffers): { producer: number; consumer: number } | undefined {
  const t = new Float64Array(b.threads);
  const of = (i: number): number | undefined => {
    const o = i * SLOTS;
    const win = t[o + WINDOW_NS]!;
    return win > 0 ? ((t[o + RUNQ_NS]! + t[o + GC_TOTAL_US]! * 1e3) / win) * 1e3 : undefined;
  };
  const producer = of(PRODUCER);
  const consumer = of(CONSUMER);
  return producer === undefined || consumer === undefined ? undefined : { producer, consumer };
}

export function breakdownLines(b: TailBuffers, slip: LatencySummary | undefined, e2e: LatencySummary, main: MainSide): string[] {
  const t = new Float64Array(b.threads);
  const { transit, wakeup } = transitRecorders(b);
  const thread = (name: string, i: number): string => {
    const o = i * SLOTS;
    const win = t[o + WINDOW_NS]!;
    if (win === 0) return `  ${name}: no window seen`;
    return (
      `  ${name}: CPU ${pct(t[o + CPU_NS]!, win)} of the window; GC ${t[o + GC_COUNT]} pauses, ${us(t[o + GC_TOTAL_US]! * 1e3)} µs total (${pct(t[o + GC_TOTAL_US]! * 1e3, win)}), longest ${us(t[o + GC_MAX_US]! * 1e3)} µs; ` +
      `run queue (runnable, no CPU) ${us(t[o + RUNQ_NS]!)} µs (${pct(t[o + RUNQ_NS]!, win)})`
    );
  };
  const mainCpu = main.cpuUs === undefined ? 'CPU ? (process.threadCpuUsage needs Node ≥ 23.9)' : `CPU ${pct(main.cpuUs * 1e3, main.wallNs)} of a core`;
  return [
    `  e2e (intended -> receipt)    ${pcts(e2e)}`,
    `  slip (intended -> hand-over) ${pcts(slip)}`,
    `  transit (hand-over -> receipt) ${pcts(sharedSummary(transit))}`,
    `  wake-up (transit of receives that parked) ${pct(wakeup.total, transit.total)} of messages, ${pcts(sharedSummary(wakeup))}`,
    thread('producer thread', PRODUCER),
    thread('consumer thread', CONSUMER),
    `  main thread (runner), whole run: ${mainCpu}; GC ${main.gcCount} pauses, longest ${us(main.gcMaxUs * 1e3)} µs`,
    `  machine: hypervisor steal ${pct(main.steal, main.ticks)} of both vCPUs over the run`,
  ];
}
