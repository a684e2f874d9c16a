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
 *   stalls   each stretch of 1 ms or more in the window during which a thread's loop did
 *            not come back: the consumer's inside receive (no data seen: the producer had
 *            not published, or the consumer slept or lost its CPU while waiting) and
 *            between receives (the harness's work on a batch, or the CPU lost), the
 *            producer's inside send and between sends; and how much of it began in the
 *            first STALL_NEAR_MS after an interval boundary, when every worker cuts its
 *            interval and the runner reduces the reports
 *
 * Everything here is shared memory, so the harness's typed worker messages stay as they are.
 */
import fs from 'node:fs';
import v8 from 'node:v8';
import { LatencyRecorder, valueFromIndex } from '../src/core/histogram.ts';
import type { LatencySummary } from '../src/core/histogram.ts';
import { atMonoNs, monoNs } from '../src/core/clock.ts';
import type { RunHooks } from '../src/harness/runner.ts';

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
  /** per thread: [count, then (start - window start, length, where) per stall]; StallLog */
  stalls: SharedArrayBuffer;
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
    stalls: new SharedArrayBuffer(THREADS * STALL_SLOTS * 8),
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
/** times the probe runs its phases before the real run: see rehearse() */
const REHEARSALS = 32;

const PHASE = 0; // 0 before the window, 1 inside, 2 after
const DONE = 1;
const START_NS = 2;
const START_CPU_NS = 3;
const START_RUNQ_NS = 4;

export class ThreadProbe {
  /**
   * The probe's state in numbers, and its GC profiler in a one-slot array: starting the
   * window then stores into these and changes no object's layout. Fields did (a
   * profiler where there was none, a start time that outgrew a small integer), and the
   * loops the probe is inlined into deoptimized at the window's first tick.
   */
  private readonly state = new Float64Array(5);
  private readonly profiler: Array<v8.GCProfiler | undefined> = [undefined];

  constructor(
    private readonly slots: Float64Array,
    private readonly base: number,
  ) {}

  /**
   * Runs a throwaway probe through its phases, once per thread before the first real one
   * is built, often enough that V8 gives enter() and stop() type feedback of their own:
   * without it the window's first tick deoptimized the loops the probe is inlined into.
   */
  static rehearse(): void {
    if (ThreadProbe.rehearsed) return;
    ThreadProbe.rehearsed = true;
    const dry = new ThreadProbe(new Float64Array(SLOTS * 2), 0);
    for (let i = 0; i < REHEARSALS; i++) {
      for (const t of [1, 2, 3]) dry.tick(t, 2, 3);
      dry.state.fill(0); // stop() stopped its profiler: the next round starts another
      dry.profiler[0] = undefined;
    }
  }

  private static rehearsed = false;

  /** Call often: starts at the window's start and stops at its end. */
  tick(nowNs: number, measureStartNs: number, measureEndNs: number): void {
    const phase = measureStartNs === 0 ? 0 : (nowNs >= measureStartNs ? 1 : 0) + (nowNs >= measureEndNs ? 1 : 0);
    if (phase !== this.state[PHASE]) this.enter(phase, nowNs);
  }

  private enter(phase: number, nowNs: number): void {
    const st = this.state;
    if (phase >= 1 && this.profiler[0] === undefined && st[DONE] === 0) {
      const p = new v8.GCProfiler();
      p.start();
      this.profiler[0] = p;
      const [cpu, wait] = schedstat();
      st[START_NS] = nowNs;
      st[START_CPU_NS] = cpu;
      st[START_RUNQ_NS] = wait;
    }
    if (phase === 2) this.stop(nowNs);
    st[PHASE] = phase;
  }

  stop(nowNs = monoNs()): void {
    const st = this.state;
    const p = this.profiler[0];
    if (st[DONE] === 1 || p === undefined) return;
    st[DONE] = 1;
    const gcs = p.stop()?.statistics ?? [];
    const [cpu, wait] = schedstat();
    const s = this.slots;
    const b = this.base;
    s[b + GC_COUNT] = gcs.length;
    s[b + GC_TOTAL_US] = gcs.reduce((a, g) => a + g.cost, 0);
    s[b + GC_MAX_US] = gcs.reduce((a, g) => Math.max(a, g.cost), 0);
    s[b + CPU_NS] = cpu - st[START_CPU_NS]!;
    s[b + RUNQ_NS] = wait - st[START_RUNQ_NS]!;
    s[b + WINDOW_NS] = nowNs - st[START_NS]!;
  }
}

/** A stall is a loop not coming back for this long. */
export const STALL_MIN_NS = 1e6;
/** Stalls kept per thread: the log is fixed-size shared memory; the count goes on past it. */
const STALL_CAP = 4096;
const STALL_SLOTS = 1 + 3 * STALL_CAP;
/** where a stall was: inside the side's call into the ring, or between two of them */
export const INSIDE = 0;
export const BETWEEN = 1;
/** A stall starting this soon after an interval boundary counts as the boundary's. */
export const STALL_NEAR_MS = 30;

/**
 * The stalls of one thread's loop in the window, in shared memory. note() runs once per
 * send or receive: two comparisons, and stores only for a stall. Its storing branch is
 * rehearsed before the first real log, for the reason ThreadProbe is: first taken inside
 * the window, it would deoptimize the loop it is inlined into, at the moment it matters.
 */
export class StallLog {
  constructor(private readonly log: Float64Array) {}

  /** [fromNs, toNs) without the loop's return, `where` INSIDE or BETWEEN; kept when inside the window and >= STALL_MIN_NS */
  note(fromNs: number, toNs: number, where: number, measureStartNs: number, measureEndNs: number): void {
    if (toNs - fromNs < STALL_MIN_NS || fromNs < measureStartNs || toNs > measureEndNs || measureStartNs === 0) return;
    const l = this.log;
    const n = l[0]!;
    l[0] = n + 1;
    if (n >= STALL_CAP) return;
    const o = 1 + 3 * n;
    l[o] = fromNs - measureStartNs;
    l[o + 1] = toNs - fromNs;
    l[o + 2] = where;
  }

  private static rehearsed = false;

  static rehearse(): void {
    if (StallLog.rehearsed) return;
    StallLog.rehearsed = true;
    const dry = new Float64Array(STALL_SLOTS);
    const log = new StallLog(dry);
    // times of the size monoNs() gives (doubles, not small integers), or the first real
    // call deoptimizes note() all the same
    const t = 1.5e13 + 0.5;
    for (let i = 0; i < REHEARSALS; i++) {
      log.note(t + 1e6, t + 3e6, i % 2, t, t + 9e6); // stored
      log.note(t + 1e6, t + 1.5e6, INSIDE, t, t + 9e6); // too short
      log.note(t + 1e6, t + 3e6, BETWEEN, t + 2e6, t + 9e6); // before the window
      log.note(0, t, BETWEEN, 0, 0); // no window yet
      dry[0] = 0;
    }
  }
}

/** The stall log of `thread` (PRODUCER, CONSUMER) in the shared buffers, rehearsed first. */
export function stallLog(buffers: TailBuffers, thread: number): StallLog {
  StallLog.rehearse();
  return new StallLog(new Float64Array(buffers.stalls, thread * STALL_SLOTS * 8, STALL_SLOTS));
}

export interface StallSummary {
  /** stalls per thread and place: ms per second of window, count, longest in ms */
  producer: { inside: StallFigure; between: StallFigure };
  consumer: { inside: StallFigure; between: StallFigure };
  /** ms per second of window of all the stalls above that began within STALL_NEAR_MS after an interval boundary */
  nearBoundaryMsPerSec: number;
  totalMsPerSec: number;
}

export interface StallFigure {
  msPerSec: number;
  count: number;
  longestMs: number;
}

/** The stall logs of both threads over a window of `windowNs`, intervals of `intervalNs` from the window's start. */
export function summarizeStalls(buffers: TailBuffers, windowNs: number, intervalNs: number): StallSummary {
  const buffer = buffers.stalls;
  const secs = windowNs / 1e9;
  let near = 0;
  let total = 0;
  const thread = (i: number): { inside: StallFigure; between: StallFigure } => {
    const l = new Float64Array(buffer, i * STALL_SLOTS * 8, STALL_SLOTS);
    const acc = [0, 1].map(() => ({ ns: 0, count: 0, longest: 0 }));
    for (let k = 0; k < Math.min(l[0]!, STALL_CAP); k++) {
      const [from, len, where] = [l[1 + 3 * k]!, l[2 + 3 * k]!, l[3 + 3 * k]!];
      const a = acc[where]!;
      a.ns += len;
      a.count++;
      a.longest = Math.max(a.longest, len);
      total += len;
      if (from % intervalNs < STALL_NEAR_MS * 1e6) near += len;
    }
    const fig = (a: { ns: number; count: number; longest: number }): StallFigure => ({ msPerSec: a.ns / 1e6 / secs, count: a.count, longestMs: a.longest / 1e6 });
    return { inside: fig(acc[INSIDE]!), between: fig(acc[BETWEEN]!) };
  };
  const producer = thread(PRODUCER);
  const consumer = thread(CONSUMER);
  return { producer, consumer, nearBoundaryMsPerSec: near / 1e6 / secs, totalMsPerSec: total / 1e6 / secs };
}

export function stallLines(s: StallSummary): string[] {
  const f = (x: StallFigure): string => `${x.msPerSec.toFixed(1)} ms/s (${x.count}, longest ${x.longestMs.toFixed(1)} ms)`;
  return [
    `  stalls >= ${STALL_MIN_NS / 1e6} ms of the loops: consumer inside receive (no data seen) ${f(s.consumer.inside)}, between receives ${f(s.consumer.between)}; producer inside send ${f(s.producer.inside)}, between sends ${f(s.producer.between)}`,
    `    of them begun within ${STALL_NEAR_MS} ms after an interval boundary (every worker cuts its interval, the runner reduces the reports): ${s.nearBoundaryMsPerSec.toFixed(1)} of ${s.totalMsPerSec.toFixed(1)} ms/s`,
  ];
}

export function threadProbe(buffers: TailBuffers, thread: number): ThreadProbe {
  ThreadProbe.rehearse();
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

/** One thread of this process as /proc tells it: its name, CPU time and how many times it got a CPU. */
interface ThreadTime {
  name: string;
  cpuNs: number;
  slices: number;
}

/** Every thread of this process by tid (empty where /proc is not Linux's). */
export function processThreads(): Map<string, ThreadTime> {
  const out = new Map<string, ThreadTime>();
  let tids: string[] = [];
  try {
    tids = fs.readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const name = fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      const [cpu, , slices] = fs.readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number);
      out.set(tid, { name, cpuNs: cpu ?? 0, slices: slices ?? 0 });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/**
 * What the process's threads other than the two loops ("WorkerThread") took over the
 * window, by thread name: on 2 vCPUs with both loops spinning, every such slice runs in
 * the place of one of them, so CPU share and slice length are the stall they cause.
 */
export function otherThreadsLine(from: Map<string, ThreadTime>, to: Map<string, ThreadTime>, windowNs: number): string {
  const byName = new Map<string, { threads: number; cpuNs: number; slices: number }>();
  for (const [tid, b] of to) {
    if (b.name === 'WorkerThread') continue;
    const a = from.get(tid) ?? { name: b.name, cpuNs: 0, slices: 0 };
    const g = byName.get(b.name) ?? { threads: 0, cpuNs: 0, slices: 0 };
    g.threads++;
    g.cpuNs += b.cpuNs - a.cpuNs;
    g.slices += b.slices - a.slices;
    byName.set(b.name, g);
  }
  const cells = [...byName]
    .filter(([, g]) => g.cpuNs > 0)
    .sort((x, y) => y[1].cpuNs - x[1].cpuNs)
    .map(([name, g]) => `${name}${g.threads > 1 ? ` x${g.threads}` : ''} ${(g.cpuNs / (windowNs / 1e3)).toFixed(1)} ms/s in ${g.slices} slices (mean ${us(g.cpuNs / Math.max(1, g.slices))} µs)`);
  return `  the process's other threads in the window: ${cells.length > 0 ? cells.join(', ') : 'none ran (or no /proc)'}`;
}

/** Snapshots the process's threads at the measured window's start and end (main-thread timers). */
export function watchWindowThreads(warmupMs: number): { onSession: NonNullable<RunHooks['onSession']>; line: () => string | undefined } {
  let from: Map<string, ThreadTime> | undefined;
  let to: Map<string, ThreadTime> | undefined;
  let windowNs = 0;
  return {
    onSession: (_session, control) => {
      const { startNs, measureEndNs } = control.timelineNs();
      const measureStartNs = startNs + warmupMs * 1e6;
      atMonoNs(measureStartNs, () => {
        from = processThreads();
        windowNs = monoNs();
      }).unref();
      atMonoNs(measureEndNs, () => {
        to = processThreads();
        windowNs = monoNs() - windowNs;
      }).unref();
    },
    line: () => (from && to ? otherThreadsLine(from, to, windowNs) : undefined),
  };
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
