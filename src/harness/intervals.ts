/**
 * Per-interval aggregation in the main thread with bounded memory.
 *
 * Workers report one histogram per interval and per kind (consumers: end-to-end latency;
 * other kinds, e.g. a producer's send delay, are further entries in `kinds`). An interval
 * stays open, with one recorder per kind, only until every expected report of every kind
 * has arrived; then its full histograms go to the sink (the .hlog) and only a few numbers
 * per kind are kept. An interval still waiting when it is `maxOpen` behind the newest
 * (a worker that ended early) is closed as incomplete, so nothing grows with run length
 * but the summary columns (4 numbers per kind and interval). A report for an interval
 * already closed goes to the sink on its own line (a log processor adds lines of the same
 * interval) and its messages into `received`, so counts stay exact; the interval's
 * percentiles then leave it out, which `late` records.
 */
import { LatencyRecorder, valueFromIndex, type SparseLike } from '../core/histogram.ts';
import { monoNs } from '../core/clock.ts';
import { HlogWriter } from '../core/hlog.ts';
import { IntervalGrid } from './control.ts';
import type { IntervalStats, ScheduleStep } from '../core/result.ts';
import type { RateProfile } from '../core/rate-profile.ts';

/**
 * One step of a rate schedule: the e2e histograms of the intervals inside it, merged
 * sparsely (a step holds the few hundred buckets its latencies touched, not a full
 * recorder, so a hundred steps cost little).
 */
class StepAccount {
  readonly buckets = new Map<number, number>();
  maxNs = 0;
  minNs = Number.POSITIVE_INFINITY;

  constructor(
    readonly startNs: number,
    readonly endNs: number,
  ) {}

  add(rec: LatencyRecorder, buckets: ArrayLike<number>): void {
    for (let k = 0; k < buckets.length; k++) {
      const i = buckets[k]!;
      this.buckets.set(i, (this.buckets.get(i) ?? 0) + rec.counts[i]!);
    }
    if (rec.total > 0) {
      this.maxNs = Math.max(this.maxNs, rec.maxNs);
      this.minNs = Math.min(this.minNs, rec.minNs);
    }
  }

  /** p50 and p99 as the result's other summaries compute them; null without data */
  latency(scratch: LatencyRecorder): { count: number; p50: number | null; p99: number | null } {
    scratch.reset();
    for (const [i, n] of this.buckets) {
      scratch.counts[i] = n;
      scratch.total += n;
    }
    if (scratch.total === 0) return { count: 0, p50: null, p99: null };
    scratch.maxNs = this.maxNs;
    scratch.minNs = this.minNs;
    const s = scratch.summary();
    return { count: s.count, p50: s.p50, p99: s.p99 };
  }
}

export interface IntervalKind {
  /** also the .hlog tag, e.g. "e2e" */
  name: string;
  /** reports per interval: one per worker of that kind */
  expected: number;
}

export interface IntervalReport {
  kind: string;
  index: number;
  received: number;
  /** a worker's snapshot: PackedSparse from the harness's workers */
  hist: SparseLike;
}

/** What is kept of one kind in one interval. Latencies in microseconds, like the result. */
export interface IntervalSummary {
  received: number;
  count: number;
  p50: number;
  p99: number;
  max: number;
  /** closed before every report arrived (a worker ended early) */
  incomplete: boolean;
  /** reports that came after the interval closed: in `received`, not in the percentiles */
  late: number;
}

/** Full histograms of a closing interval (or of one late report), in nanoseconds: `buckets` its nonzero buckets, ascending. */
export type IntervalSink = (kind: string, index: number, rec: LatencyRecorder, buckets: ArrayLike<number>) => void;

const FIELDS = 6; // received, count, p50, p99, max, flags (bit 0 incomplete, the rest late << 1)
const CHUNK_ROWS = 4096;
/** intervals kept open behind the newest one reported */
export const DEFAULT_MAX_OPEN = 8;

/** Summary rows in fixed-size chunks: growth is 48 bytes per interval and kind, no copying. */
class SummaryColumns {
  private readonly chunks: Float64Array[] = [];
  rows = 0;

  set(index: number, s: IntervalSummary): void {
    const chunk = this.chunkFor(index);
    const o = (index % CHUNK_ROWS) * FIELDS;
    chunk.set([s.received, s.count, s.p50, s.p99, s.max, (s.incomplete ? 1 : 0) + s.late * 2], o);
    if (index + 1 > this.rows) this.rows = index + 1;
  }

  get(index: number): IntervalSummary | undefined {
    const chunk = this.chunks[Math.floor(index / CHUNK_ROWS)];
    if (!chunk || index >= this.rows) return undefined;
    const o = (index % CHUNK_ROWS) * FIELDS;
    if (Number.isNaN(chunk[o])) return undefined;
    const flags = chunk[o + 5]!;
    return { received: chunk[o]!, count: chunk[o + 1]!, p50: chunk[o + 2]!, p99: chunk[o + 3]!, max: chunk[o + 4]!, incomplete: flags % 2 === 1, late: Math.floor(flags / 2) };
  }

  private chunkFor(index: number): Float64Array {
    const c = Math.floor(index / CHUNK_ROWS);
    while (this.chunks.length <= c) this.chunks.push(new Float64Array(CHUNK_ROWS * FIELDS).fill(Number.NaN));
    return this.chunks[c]!;
  }
}

interface OpenKind {
  rec: LatencyRecorder;
  /** each report's bucket indices: closing visits their union, not every bucket */
  touched: Array<ArrayLike<number>>;
  received: number;
  reports: number;
}

/**
 * The ascending union of bucket index lists. A worker's snapshot lists its buckets in
 * ascending order already, and an interval usually has one report per kind: that list
 * is the answer as it is. Sorting a Set of every index instead cost the main thread
 * milliseconds per interval at 1 M msg/s (15,000 buckets), time it took from a spinning
 * worker on a machine with a core per worker.
 */
export function ascendingUnion(lists: ReadonlyArray<ArrayLike<number>>): ArrayLike<number> {
  const ascending = (l: ArrayLike<number>): boolean => {
    for (let i = 1; i < l.length; i++) if (!(l[i - 1]! < l[i]!)) return false;
    return true;
  };
  if (lists.length === 1 && ascending(lists[0]!)) return lists[0]!;
  if (!lists.every(ascending)) return [...new Set(lists.flatMap((l) => Array.from(l)))].sort((a, b) => a - b);
  let out: ArrayLike<number> = [];
  for (const l of lists) out = mergeAscending(out, l);
  return out;
}

function mergeAscending(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? a[i]! : Number.POSITIVE_INFINITY;
    const y = j < b.length ? b[j]! : Number.POSITIVE_INFINITY;
    out.push(Math.min(x, y));
    if (x <= y) i++;
    if (y <= x) j++;
  }
  return out;
}

/** Adds a worker's sparse snapshot without building a second full-size recorder. */
export function addSparse(into: LatencyRecorder, s: SparseLike, touched?: Array<ArrayLike<number>>): void {
  into.total += addCounts(into.counts, s.idx, s.cnt);
  touched?.push(s.idx);
  addExtremes(into, s);
}

/**
 * The loop apart from the rest, for the reason nonzero() in histogram.ts gives: compiled
 * while it runs, it stays compiled, whatever kinds of numbers the snapshot's other fields
 * hold (they change from one worker's report to the next).
 */
function addCounts(counts: Float64Array, idx: ArrayLike<number>, cnt: ArrayLike<number>): number {
  let total = 0;
  for (let k = 0; k < idx.length; k++) {
    counts[idx[k]!]! += cnt[k]!;
    total += cnt[k]!;
  }
  return total;
}

function addExtremes(into: LatencyRecorder, s: SparseLike): void {
  into.clamped += s.clamped;
  into.negative += s.negative;
  if (s.maxNs !== undefined && s.maxNs > into.maxNs) into.maxNs = s.maxNs;
  if (s.minNs !== undefined && s.minNs < into.minNs) into.minNs = s.minNs;
}

/** Sees each interval's full histogram of a kind as it closes (`buckets`: its nonzero buckets, ascending). */
export type ClosedHook = (kind: string, index: number, rec: LatencyRecorder, buckets: ArrayLike<number>) => void;

export class IntervalReducer {
  onClosed: ClosedHook | undefined;
  private readonly open = new Map<number, Map<string, OpenKind>>();
  private readonly columns = new Map<string, SummaryColumns>();
  private readonly pool: LatencyRecorder[] = [];
  private newest = -1;
  private latestClosed = -1;
  private allocated = 0;

  constructor(
    private readonly kinds: IntervalKind[],
    private readonly sink?: IntervalSink,
    private readonly maxOpen = DEFAULT_MAX_OPEN,
  ) {
    for (const k of kinds) this.columns.set(k.name, new SummaryColumns());
  }

  report(r: IntervalReport): void {
    const columns = this.columns.get(r.kind);
    if (!columns) throw new Error(`interval report of unknown kind ${JSON.stringify(r.kind)}; known: ${this.kinds.map((k) => k.name).join(', ')}`);
    const closed = columns.get(r.index);
    if (closed) return this.late(r, closed, columns);
    let iv = this.open.get(r.index);
    if (!iv) this.open.set(r.index, (iv = this.openInterval()));
    const k = iv.get(r.kind)!;
    addSparse(k.rec, r.hist, k.touched);
    k.received += r.received;
    k.reports++;
    if (this.kinds.every((kind) => iv.get(kind.name)!.reports >= kind.expected)) this.close(r.index, false);
    if (r.index > this.newest) this.newest = r.index;
    for (const index of [...this.open.keys()]) if (index <= this.newest - this.maxOpen) this.close(index, true);
  }

  /** Closes every interval still open (end of run). */
  finish(): void {
    for (const index of [...this.open.keys()].sort((a, b) => a - b)) this.close(index, true);
  }

  /** The newest closed interval's summary of a kind, e.g. for the progress line's p99. */
  latest(kind: string): IntervalSummary | undefined {
    return this.latestClosed < 0 ? undefined : this.summary(kind, this.latestClosed);
  }

  summary(kind: string, index: number): IntervalSummary | undefined {
    return this.columns.get(kind)?.get(index);
  }

  /** closed interval indices are 0..count-1 (some may be missing) */
  get count(): number {
    let n = 0;
    for (const c of this.columns.values()) n = Math.max(n, c.rows);
    return n;
  }

  get openIntervals(): number {
    return this.open.size;
  }

  /** recorders allocated so far: bounded by (maxOpen + 1) x kinds whatever the run length */
  get recordersAllocated(): number {
    return this.allocated;
  }

  private openInterval(): Map<string, OpenKind> {
    const m = new Map<string, OpenKind>();
    for (const k of this.kinds) {
      m.set(k.name, { rec: this.recorder(), touched: [], received: 0, reports: 0 });
    }
    return m;
  }

  private close(index: number, byBound: boolean): void {
    const iv = this.open.get(index);
    if (!iv) return;
    this.open.delete(index);
    for (const kind of this.kinds) {
      const k = iv.get(kind.name)!;
      const buckets = ascendingUnion(k.touched);
      const s = this.emit(kind.name, index, k.rec, buckets);
      this.onClosed?.(kind.name, index, k.rec, buckets);
      this.columns.get(kind.name)!.set(index, { received: k.received, count: k.rec.total, p50: s.p50, p99: s.p99, max: s.max, incomplete: byBound && k.reports < kind.expected, late: 0 });
      k.rec.reset();
      this.pool.push(k.rec);
    }
    if (index > this.latestClosed) this.latestClosed = index;
  }

  private late(r: IntervalReport, closed: IntervalSummary, columns: SummaryColumns): void {
    const rec = this.recorder();
    addSparse(rec, r.hist);
    this.emit(r.kind, r.index, rec, ascendingUnion([r.hist.idx]));
    rec.reset();
    this.pool.push(rec);
    columns.set(r.index, { ...closed, received: closed.received + r.received, late: closed.late + 1 });
  }

  private recorder(): LatencyRecorder {
    const pooled = this.pool.pop();
    if (pooled) return pooled;
    this.allocated++;
    return new LatencyRecorder();
  }

  /** Sends the full histogram to the sink and returns its summary. */
  private emit(kind: string, index: number, rec: LatencyRecorder, buckets: ArrayLike<number>): { p50: number; p99: number; max: number } {
    this.sink?.(kind, index, rec, buckets);
    return quickSummary(rec, buckets);
  }
}

/**
 * p50, p99 and max as summarize() computes them from the equivalent HdrHistogram (the
 * top of the bucket holding the percentile's count, capped at the exact max), in one
 * pass over the nonzero buckets instead of several over all of them.
 */
function quickSummary(rec: LatencyRecorder, buckets: ArrayLike<number>): { p50: number; p99: number; max: number } {
  if (rec.total === 0) return { p50: 0, p99: 0, max: 0 };
  const want50 = countAt(50, rec.total);
  const want99 = countAt(99, rec.total);
  let p50 = -1;
  let p99 = -1;
  let cumulative = 0;
  for (let k = 0; k < buckets.length; k++) {
    const i = buckets[k]!;
    cumulative += rec.counts[i]!;
    // a bucket's highest equivalent value is just below the next bucket's lowest
    if (p50 < 0 && cumulative >= want50) p50 = valueFromIndex(i + 1) - 1;
    if (cumulative >= want99) {
      p99 = valueFromIndex(i + 1) - 1;
      break;
    }
  }
  const max = rec.maxNs;
  return { p50: toUs(Math.max(p50, 0), max), p99: toUs(Math.max(p99, 0), max), max: toUs(max, max) };
}

// Module-level rather than closures made on every call: quickSummary runs on the main
// thread once per interval and kind, and closures made per call (each wrapped to keep its
// name) were a deoptimization there at every interval.
function toUs(ns: number, maxNs: number): number {
  return Math.round(Math.min(ns, maxNs) / 10) / 100;
}

function ulp(x: number): number {
  return Math.pow(2, Math.floor(Math.log2(x)) - 52);
}

/** The count a percentile needs, as HdrHistogram computes it. */
function countAt(pct: number, total: number): number {
  const fp = (pct / 100) * total;
  return Math.max(Math.ceil(fp - ulp(fp)), 1);
}

/**
 * A run's intervals: one reducer per group of kinds that close together, with their full
 * histograms streamed to an .hlog under the run folder (writeResultFiles gives it its final
 * name beside the result file). Consumers and producers are separate groups: producers stop
 * reporting after their last send, and the drain's intervals must not wait for them.
 */
export class RunIntervals {
  private readonly reducers: IntervalReducer[];
  private readonly byKind = new Map<string, IntervalReducer>();
  private hlog: HlogWriter | undefined;
  private grid: IntervalGrid | undefined;
  /** the offered rate from the run's start (open loop), for each row's intendedPerSec */
  private profile: RateProfile | undefined;
  private steps: StepAccount[] = [];

  constructor(
    private readonly logFile: string,
    private readonly intervalMs: number,
    groups: IntervalKind[][],
  ) {
    const sink: IntervalSink = (kind, index, rec, buckets) => {
      if (!this.grid) return;
      const startNs = this.grid.startOf(index);
      this.hlog?.intervalBuckets(kind, (startNs - this.grid.startNs) / 1e9, (this.grid.endNs(index) - startNs) / 1e9, rec.counts, buckets);
    };
    this.reducers = groups.map((kinds) => new IntervalReducer(kinds, sink));
    groups.forEach((kinds, i) => kinds.forEach((k) => this.byKind.set(k.name, this.reducers[i]!)));
  }

  /** The reducer of the first group (the consumers'), for the bounded-memory checks. */
  get reducer(): IntervalReducer {
    return this.reducers[0]!;
  }

  private reducerOf(kind: string): IntervalReducer {
    const r = this.byKind.get(kind);
    if (!r) throw new Error(`interval report of unknown kind ${JSON.stringify(kind)}; known: ${[...this.byKind.keys()].join(', ')}`);
    return r;
  }

  /**
   * Interval 0 starts at startNs (monoNs) and every interval ends on the workers' grid
   * (aligned to the measured window's start); reports arrive only after this.
   */
  start(startNs: number, measureStartNs: number, offered?: { profile: RateProfile; stepsMs?: number[] }): void {
    this.grid = new IntervalGrid(startNs, measureStartNs, this.intervalMs * 1e6);
    this.hlog = new HlogWriter(this.logFile, Date.now() + (startNs - monoNs()) / 1e6);
    this.profile = offered?.profile;
    let t = measureStartNs;
    this.steps = (offered?.stepsMs ?? []).map((ms) => new StepAccount(t, (t += ms * 1e6)));
    const grid = this.grid;
    if (this.steps.length > 0) {
      this.reducerOf('e2e').onClosed = (kind, index, rec, buckets) => {
        if (kind !== 'e2e') return;
        const step = this.steps.find((st) => grid.startOf(index) >= st.startNs && grid.endNs(index) <= st.endNs);
        step?.add(rec, buckets);
      };
    }
  }

  /** messages per second the schedule offered over [fromNs, toNs), none after the window */
  private offeredPerSec(fromNs: number, toNs: number, measureEndNs: number): number {
    const startNs = this.grid!.startNs;
    const n = (t: number): number => this.profile!.countAt(Math.min(t, measureEndNs) - startNs);
    return Math.round(((n(toNs) - n(fromNs)) / ((toNs - fromNs) / 1e9)) * 100) / 100;
  }

  /**
   * Per step of a schedule: offered (the schedule's integral over the step), achieved
   * (handed over in the step's intervals), received (first deliveries) and e2e p50/p99 of
   * the deliveries in the step's intervals, by receive time as every interval figure.
   */
  stepStats(measureStartNs: number, measureEndNs: number, sends: string): ScheduleStep[] {
    const grid = this.grid;
    if (!grid || !this.profile) return [];
    const e2e = this.reducerOf('e2e');
    const sent = this.reducerOf(sends);
    const scratch = new LatencyRecorder();
    return this.steps.map((st) => {
      let handed = 0;
      let received = 0;
      for (let index = 0; index < e2e.count; index++) {
        if (grid.startOf(index) < st.startNs || grid.endNs(index) > st.endNs) continue;
        handed += sent.summary(sends, index)?.received ?? 0;
        received += e2e.summary('e2e', index)?.received ?? 0;
      }
      const secs = (st.endNs - st.startNs) / 1e9;
      return {
        fromMs: Math.round((st.startNs - measureStartNs) / 1e6),
        toMs: Math.round((st.endNs - measureStartNs) / 1e6),
        offeredPerSec: this.offeredPerSec(st.startNs, st.endNs, measureEndNs),
        achievedPerSec: handed / secs,
        receivedPerSec: received / secs,
        ...st.latency(scratch),
      };
    });
  }

  report(r: IntervalReport): void {
    this.reducerOf(r.kind).report(r);
  }

  /** p99 of the newest complete interval, µs; null before one has messages */
  latestP99(kind: string): number | null {
    const s = this.reducerOf(kind).latest(kind);
    return s && s.count > 0 ? s.p99 : null;
  }

  /** Closes what is open and the log; returns the log's path, if one was started. */
  finish(): string | undefined {
    for (const r of this.reducers) r.finish();
    this.hlog?.close();
    return this.hlog?.tmpFile;
  }

  close(): void {
    this.hlog?.close();
  }

  /**
   * The result's per-interval rows of one kind; an interval belongs to the phase it started
   * in. With `sends`, each row also carries what the producers handed over in it (`sent`)
   * and that kind's p99 (`sendDelayP99`, where it has values), and the consumer lag
   * (`backlog`) at its end. Consumers count first deliveries only, so repeats do not hide
   * a backlog.
   */
  stats(kind: string, measureStartNs: number, measureEndNs: number, sends?: string): IntervalStats[] {
    const out: IntervalStats[] = [];
    const grid = this.grid;
    if (!grid) return out;
    const reducer = this.reducerOf(kind);
    const sendReducer = sends ? this.reducerOf(sends) : undefined;
    let sentSoFar = 0;
    let receivedSoFar = 0;
    for (let index = 0; index < reducer.count; index++) {
      const s = reducer.summary(kind, index);
      const sent = sends ? sendReducer?.summary(sends, index) : undefined;
      sentSoFar += sent?.received ?? 0;
      receivedSoFar += s?.received ?? 0;
      if (!s) continue;
      const endNs = grid.endNs(index);
      const lengthNs = endNs - grid.startOf(index);
      out.push({
        tMs: Math.round((endNs - measureStartNs) / 1e6),
        phase: endNs <= measureStartNs ? 'warmup' : endNs - lengthNs < measureEndNs ? 'measure' : 'drain',
        received: s.received,
        msgsPerSec: s.received / (lengthNs / 1e9),
        ...(this.profile ? { intendedPerSec: this.offeredPerSec(endNs - lengthNs, endNs, measureEndNs) } : {}),
        p50: s.p50,
        p99: s.p99,
        max: s.max,
        ...(s.incomplete ? { incomplete: true } : {}),
        ...(s.late > 0 ? { lateReports: s.late } : {}),
        ...(sent ? { sent: sent.received, ...(sent.count > 0 ? { sendDelayP99: sent.p99 } : {}) } : {}),
        // after the producers' last report (the drain) the backlog still counts down
        ...(sent || sentSoFar > 0 ? { backlog: sentSoFar - receivedSoFar } : {}),
      });
    }
    return out;
  }
}
