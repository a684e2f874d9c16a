import zlib from 'node:zlib';
import * as hdr from 'hdr-histogram-js';

/**
 * Latency recording for the hot path.
 *
 * hdr-histogram-js costs ~130 ns per recordValue here, which alone would cap a consumer
 * below 8 M msg/s. `LatencyRecorder` keeps the *same bucket layout* as an HdrHistogram
 * with lowest value 1 and 3 significant digits, but indexes a plain Float64Array in a few
 * ns. Conversion to an hdr-histogram-js histogram (for percentiles, .hgrm output and the
 * standard compressed encoding) replays each bucket once with its count, so no precision
 * is lost: every value lands in the bucket it would have landed in directly.
 *
 * All values are nanoseconds. Float64 counts stay exact up to 2^53 per bucket.
 */
const SIG_DIGITS = 3;
const SUB_BUCKET_HALF_COUNT_MAGNITUDE = 10; // ceil(log2(2 * 10^3)) - 1
const SUB_BUCKET_HALF_COUNT = 1 << SUB_BUCKET_HALF_COUNT_MAGNITUDE;
const SUB_BUCKET_MASK = 2 * SUB_BUCKET_HALF_COUNT - 1;
const TWO_POW_32 = 4294967296;
/** the largest count toSparse passes as a small integer (V8's are 31 bits) */
const SMALL_INT = 0x3fffffff;

/** Ten minutes: anything slower is clamped and counted in `clamped`. */
export const HIGHEST_TRACKABLE_NS = 600e9;

function msb(v: number): number {
  return v < TWO_POW_32 ? 31 - Math.clz32(v) : 63 - Math.clz32(Math.floor(v / TWO_POW_32));
}

export function countsIndex(valueNs: number): number {
  const bucketIndex = msb(valueNs < SUB_BUCKET_MASK ? SUB_BUCKET_MASK : valueNs) - SUB_BUCKET_HALF_COUNT_MAGNITUDE;
  const subBucketIndex = bucketIndex === 0 ? valueNs : Math.floor(valueNs / 2 ** bucketIndex);
  return ((bucketIndex + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + (subBucketIndex - SUB_BUCKET_HALF_COUNT);
}

export function valueFromIndex(index: number): number {
  let bucketIndex = (index >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1;
  let subBucketIndex = (index & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
  if (bucketIndex < 0) {
    subBucketIndex -= SUB_BUCKET_HALF_COUNT;
    bucketIndex = 0;
  }
  return subBucketIndex * 2 ** bucketIndex;
}

const COUNTS_LENGTH = countsIndex(HIGHEST_TRACKABLE_NS) + 1;

/**
 * The nonzero buckets of `counts`, ascending, into `idx` and `cnt`, for toSparse (the
 * end-of-run snapshots; an interval's report is toPacked). Its own function, so that the
 * loop V8 compiles while it runs (30,000 buckets) holds nothing but the loop: when it
 * served every interval's report, the snapshot's fields read after it had no type
 * feedback in that compilation and deoptimized it at every interval.
 */
function nonzero(c: Float64Array, idx: number[], cnt: number[]): void {
  for (let i = 0; i < c.length; i++) {
    const v = c[i]!;
    if (v !== 0) {
      idx.push(i);
      // A count as a small integer where it is one: a double read from the Float64Array
      // arrives sometimes as a small integer, sometimes as a heap number, and code that
      // adds such snapshots (the runner's did, per interval) deoptimizes on every change.
      cnt.push(v <= SMALL_INT ? v | 0 : v);
    }
  }
}

function countNonzero(c: Float64Array): number {
  let n = 0;
  for (let i = 0; i < c.length; i++) if (c[i] !== 0) n++;
  return n;
}

function packNonzero(c: Float64Array, idx: Uint32Array, cnt: Float64Array): void {
  let k = 0;
  for (let i = 0; i < c.length; i++) {
    if (c[i] !== 0) {
      idx[k] = i;
      cnt[k] = c[i]!;
      k++;
    }
  }
}

export class LatencyRecorder {
  readonly counts: Float64Array;
  total = 0;
  /** values above HIGHEST_TRACKABLE_NS (recorded as that value) */
  clamped = 0;
  /** negative values (recorded as 0): impossible with a monotonic clock, so counted, never hidden */
  negative = 0;
  /** exact extremes: replayed buckets only know their lower bounds */
  minNs = Number.POSITIVE_INFINITY;
  maxNs = 0;

  constructor(counts?: Float64Array) {
    this.counts = counts ?? new Float64Array(COUNTS_LENGTH);
    // Every numeric field holds a double from the start. V8 keeps a field's first
    // representation (0 is a small integer) until a value outgrows it (a total past 2^31,
    // a latency above 2.1 s), and then gives the object a new map: code optimized for
    // recorders of the old one deoptimizes when it next meets one, mid-run.
    this.total = this.clamped = this.negative = this.maxNs = 0.5;
    this.total = this.clamped = this.negative = this.maxNs = 0;
    if (counts) for (const c of counts) this.total += c;
  }

  record(valueNs: number): void {
    this.recordMany(valueNs, 1);
  }

  recordMany(valueNs: number, count: number): void {
    let v = Math.round(valueNs);
    if (v < 0) {
      this.negative += count;
      v = 0;
    } else if (v > HIGHEST_TRACKABLE_NS) {
      this.clamped += count;
      v = HIGHEST_TRACKABLE_NS;
    }
    this.counts[countsIndex(v)]! += count;
    this.total += count;
    if (v > this.maxNs) this.maxNs = v;
    if (v < this.minNs) this.minNs = v;
  }

  add(other: LatencyRecorder): void {
    const src = other.counts;
    const dst = this.counts;
    for (let i = 0; i < src.length; i++) dst[i]! += src[i]!;
    this.total += other.total;
    this.clamped += other.clamped;
    this.negative += other.negative;
    if (other.maxNs > this.maxNs) this.maxNs = other.maxNs;
    if (other.minNs < this.minNs) this.minNs = other.minNs;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.clamped = 0;
    this.negative = 0;
    this.minNs = Number.POSITIVE_INFINITY;
    this.maxNs = 0;
  }

  /** A compact, structured-clone-friendly snapshot: only nonzero buckets. */
  toSparse(): SparseHistogram {
    const idx: number[] = [];
    const cnt: number[] = [];
    nonzero(this.counts, idx, cnt);
    return { idx, cnt, clamped: this.clamped, negative: this.negative, minNs: this.minNs, maxNs: this.maxNs };
  }

  /** The same snapshot in typed arrays, for an interval's report (PackedSparse says why). */
  toPacked(): PackedSparse {
    const n = countNonzero(this.counts);
    const idx = new Uint32Array(n);
    const cnt = new Float64Array(n);
    packNonzero(this.counts, idx, cnt);
    return { idx, cnt, clamped: this.clamped, negative: this.negative, minNs: this.minNs, maxNs: this.maxNs };
  }

  static fromSparse(s: SparseHistogram): LatencyRecorder {
    const r = new LatencyRecorder();
    for (let k = 0; k < s.idx.length; k++) {
      r.counts[s.idx[k]!] = s.cnt[k]!;
      r.total += s.cnt[k]!;
    }
    r.clamped = s.clamped;
    r.negative = s.negative;
    r.minNs = s.minNs ?? Number.POSITIVE_INFINITY;
    r.maxNs = s.maxNs ?? 0;
    return r;
  }

  toHdr(): hdr.Histogram {
    const h = newHdr();
    const c = this.counts;
    for (let i = 0; i < c.length; i++) if (c[i] !== 0) h.recordValueWithCount(valueFromIndex(i), c[i]!);
    return h;
  }

  summary(): LatencySummary {
    return summarize(this.toHdr(), this.total, { min: this.minNs, max: this.maxNs });
  }
}

export interface SparseHistogram {
  idx: number[];
  cnt: number[];
  clamped: number;
  negative: number;
  minNs?: number;
  maxNs?: number;
}

/**
 * A snapshot in typed arrays: what a worker posts once per interval. Structured clone
 * copies a typed array as bytes, where a plain array of 15,000 numbers (an interval at
 * 1 M msg/s) costs an element-by-element walk on both sides and an allocation per element
 * on the runner's main thread, CPU that on 2 vCPUs comes from a spinning worker.
 */
export interface PackedSparse {
  idx: Uint32Array;
  cnt: Float64Array;
  clamped: number;
  negative: number;
  minNs: number;
  maxNs: number;
}

/** What adding a snapshot reads: a SparseHistogram or a PackedSparse. */
export interface SparseLike {
  readonly idx: ArrayLike<number>;
  readonly cnt: ArrayLike<number>;
  readonly clamped: number;
  readonly negative: number;
  readonly minNs?: number;
  readonly maxNs?: number;
}

export function newHdr(): hdr.Histogram {
  return hdr.build({
    bitBucketSize: 64,
    numberOfSignificantValueDigits: SIG_DIGITS,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_NS,
    autoResize: false,
    useWebAssembly: false,
  });
}

/**
 * Percentiles in microseconds, as the result schema states. An empty histogram is "no
 * data", not 0 µs: with count 0 every other field is NaN, which the result file holds as
 * null (JSON has no NaN) and readResultFile turns back into NaN. NaN rather than a
 * nullable type keeps the summary's many numeric uses type-correct, and arithmetic on it
 * stays NaN instead of quietly becoming a figure.
 */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  p9999: number;
  max: number;
}

export function summarize(h: hdr.Histogram, count = h.totalCount, exact?: { min: number; max: number }): LatencySummary {
  // HDR percentiles report the top of a bucket, which can exceed the largest value recorded.
  const max = exact ? exact.max : h.maxValue;
  const us = (ns: number): number => Math.round(Math.min(ns, max) / 10) / 100;
  if (count === 0) return { count: 0, min: NaN, mean: NaN, p50: NaN, p90: NaN, p99: NaN, p999: NaN, p9999: NaN, max: NaN };
  return {
    count,
    min: exact ? Math.round(exact.min / 10) / 100 : us(h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : h.minNonZeroValue),
    mean: us(h.mean),
    p50: us(h.getValueAtPercentile(50)),
    p90: us(h.getValueAtPercentile(90)),
    p99: us(h.getValueAtPercentile(99)),
    p999: us(h.getValueAtPercentile(99.9)),
    p9999: us(h.getValueAtPercentile(99.99)),
    max: us(max),
  };
}

/** HdrHistogram's standard compressed base64 encoding (readable by every HdrHistogram port). */
export function encodeHdr(h: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** HdrHistogram's V2 encoding cookies, TLZE bit set, as every port writes and reads them. */
const V2_COOKIE = 0x1c849303 | 0x10;
const V2_COMPRESSED_COOKIE = 0x1c849304 | 0x10;
const V2_HEADER_BYTES = 40;
const TWO_POW_7 = 128;

/** One ZigZag LEB128 word of the V2 encoding (at most 9 bytes; a negative value is a run of zeros). */
function putZigZag(out: Uint8Array, pos: number, value: number): number {
  let v = value >= 0 ? value * 2 : -value * 2 - 1;
  for (let k = 0; k < 8; k++) {
    if (v < TWO_POW_7) {
      out[pos++] = v;
      return pos;
    }
    out[pos++] = 0x80 | (v % TWO_POW_7);
    v = Math.floor(v / TWO_POW_7);
  }
  out[pos++] = v;
  return pos;
}

/**
 * The counts in V2's run-length zigzag encoding from `pos`; returns the end, or -1 if the
 * buckets do not ascend. The loop in a function of its own, like nonzero()'s: compiled
 * while it runs, it deoptimized at every interval when it shared a body with the header.
 */
function putCounts(raw: Uint8Array, from: number, counts: Float64Array, buckets: ArrayLike<number>): number {
  let pos = from;
  let prev = -1;
  for (let k = 0; k < buckets.length; k++) {
    const i = buckets[k]!;
    if (i <= prev) return -1;
    const zeros = i - prev - 1;
    if (zeros > 0) pos = putZigZag(raw, pos, zeros === 1 ? 0 : -zeros);
    pos = putZigZag(raw, pos, counts[i]!);
    prev = i;
  }
  return pos;
}

let scratch = new Uint8Array(0);

/**
 * The encoder's working buffer, kept between calls: a fresh zero-filled one of the worst
 * case's size (~200 KB at 12,000 buckets) cost more than the encoding itself.
 */
function encodeScratch(bytes: number): Uint8Array {
  if (scratch.length < bytes) scratch = new Uint8Array(bytes);
  return scratch;
}

/**
 * The compressed base64 encoding of the histogram whose nonzero buckets are `buckets`
 * (ascending, no repeats) of `counts`: byte for byte what encodeHdr gives for the same
 * histogram (test/core/hlog.test.ts compares them), without building an
 * hdr-histogram-js histogram first. That replay, a bucket at a time through its
 * recordValueWithCount, cost the runner's main thread ~30 ms per interval, CPU taken
 * from the workers it shares two cores with.
 */
export function encodeBuckets(counts: Float64Array, buckets: ArrayLike<number>): string {
  const raw = encodeScratch(V2_HEADER_BYTES + 9 * (2 * buckets.length + 1));
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let pos = V2_HEADER_BYTES;
  // an empty histogram encodes its one count, at index 0
  if (buckets.length === 0) pos = putZigZag(raw, pos, 0);
  else pos = putCounts(raw, pos, counts, buckets);
  if (pos < 0) throw new Error('encodeBuckets: buckets must ascend without repeats');
  view.setInt32(0, V2_COOKIE);
  view.setInt32(4, pos - V2_HEADER_BYTES);
  view.setInt32(8, 1); // normalizing index offset, as hdr-histogram-js writes it
  view.setInt32(12, SIG_DIGITS);
  view.setBigInt64(16, 1n); // lowest discernible value
  view.setBigInt64(24, BigInt(HIGHEST_TRACKABLE_NS));
  view.setBigInt64(32, 1n); // integer-to-double conversion ratio, as hdr-histogram-js writes it
  const deflated = zlib.deflateSync(raw.subarray(0, pos));
  const out = Buffer.alloc(8 + deflated.length);
  out.writeInt32BE(V2_COMPRESSED_COOKIE, 0);
  out.writeInt32BE(deflated.length, 4);
  deflated.copy(out, 8);
  return out.toString('base64');
}

export function decodeHdr(base64: string): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(base64, 64, false);
}

/** The .hgrm percentile distribution text, in microseconds like HdrHistogram's plotter expects. */
export function percentileDistribution(h: hdr.Histogram): string {
  return h.outputPercentileDistribution(5, 1000);
}
