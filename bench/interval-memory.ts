/**
 * Memory of the runner's interval aggregation over a long run:
 *
 *   npx tsx bench/interval-memory.ts [--intervals N] [--interval-ms N] [--rate N] [--warmup-ms N]
 *
 * Drives the real runner (runOnce) on the in-process ring buffer with a tiny interval,
 * so every interval goes through the same path as in any run: the consumer's report, the
 * main thread's reduction, the .hlog. Prints the process's RSS (main thread and workers:
 * one process) at the start of the measured window and at its end, and whether the end
 * is within 10% of the start. The window starts after a warm-up (10 s by default) in
 * which V8 grows the heaps of the main thread and the workers to their working size; it
 * sizes them lazily, so RSS in the first seconds says nothing about growth with run
 * length. Start and end are medians of a tenth of the window's samples each (see
 * RssSamples). The run stops early, "NOT met", once RSS doubles, so an aggregation that
 * keeps every interval cannot take the machine's memory. The result's own rows (one small object per interval, built after the run)
 * are reported apart, as RSS after the result is assembled.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { adapter } from '../src/adapters/ringbuffer/index.ts';
import { UsageError } from '../src/core/errors.ts';
import { runOnce, type Progress, type RunSpec } from '../src/harness/runner.ts';

const MB = 1024 * 1024;
const BOUND = 0.1;

function positive(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} ${JSON.stringify(raw)}: expected a positive integer`);
  return n;
}

function spec(runDir: string, intervals: number, intervalMs: number, rate: number, warmupMs: number): RunSpec {
  return {
    system: adapter.name,
    adapter,
    options: adapter.parseOptions({ process: 'inline' }, 'bench/interval-memory.ts'),
    label: 'interval-memory',
    runId: `interval-memory-${process.pid}`,
    runDir,
    brokers: 'native',
    externalUrls: {},
    ratePerSec: rate,
    load: {
      durationMs: intervals * intervalMs,
      warmupMs,
      drainTimeoutMs: 5000,
      intervalMs,
      producers: 1,
      consumers: 1,
      messageSize: 256,
      maxInFlight: 1000,
      batchSize: 16,
      workUs: 0,
    },
  };
}

/**
 * RSS samples of the measured window, every 100 ms into a preallocated array (the bench
 * must not grow either). V8 resizes heaps as garbage comes and goes, so one reading swings
 * by several percent: the start and the end are each the median of a tenth of the window.
 */
class RssSamples {
  private readonly values: Float64Array;
  private n = 0;
  private lastMs = -Infinity;

  constructor(windowMs: number) {
    this.values = new Float64Array(Math.ceil(windowMs / 100) + 16);
  }

  add(elapsedMs: number, rss: number): void {
    if (elapsedMs - this.lastMs < 100 || this.n >= this.values.length) return;
    this.lastMs = elapsedMs;
    this.values[this.n++] = rss;
  }

  get first(): number {
    return this.n > 0 ? this.values[0]! : 0;
  }

  get last(): number {
    return this.n > 0 ? this.values[this.n - 1]! : 0;
  }

  /** medians of the first and the last tenth of the samples */
  ends(): { start: number; end: number; samples: number } {
    const tenth = Math.max(1, Math.floor(this.n / 10));
    const median = (from: number): number => {
      const part = Array.from(this.values.subarray(from, from + tenth)).sort((a, b) => a - b);
      return part[Math.floor(part.length / 2)] ?? 0;
    };
    return { start: median(0), end: median(this.n - tenth), samples: this.n };
  }
}

/** An aggregation that keeps every interval grows by far more: stop it before it takes the machine's memory. */
const RUNAWAY_FACTOR = 2;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { intervals: { type: 'string', default: '100000' }, 'interval-ms': { type: 'string', default: '1' }, rate: { type: 'string', default: '2000' }, 'warmup-ms': { type: 'string', default: '10000' } } });
  const intervals = positive('intervals', values.intervals);
  const intervalMs = positive('interval-ms', values['interval-ms']);
  const rate = positive('rate', values.rate);
  const warmupMs = positive('warmup-ms', values['warmup-ms']);
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-interval-memory-'));
  const aborter = new AbortController();
  const samples = new RssSamples(intervals * intervalMs);
  let runawayAt: number | undefined;
  const progress = (p: Progress): void => {
    if (p.phase !== 'measure') return;
    const rss = process.memoryUsage.rss();
    samples.add(p.elapsedMs - warmupMs, rss);
    if (runawayAt === undefined && rss > samples.first * RUNAWAY_FACTOR) {
      runawayAt = Math.round((p.elapsedMs - warmupMs) / intervalMs);
      aborter.abort();
    }
  };
  const mb = (b: number): string => `${(b / MB).toFixed(1)} MB`;
  process.stdout.write(`interval-memory: ${intervals} intervals of ${intervalMs} ms through the runner (ringbuffer inline, ${rate} msg/s, ${warmupMs / 1000} s warm-up first)\n`);
  try {
    const r = await runOnce(spec(runDir, intervals, intervalMs, rate, warmupMs), { progress, signal: aborter.signal });
    const afterResult = process.memoryUsage.rss();
    const measured = r.intervals.filter((i) => i.phase === 'measure').length;
    const { start, end, samples: n } = samples.ends();
    const met = Math.abs(end - start) <= start * BOUND && measured >= intervals;
    process.stdout.write(`intervals aggregated: ${r.intervals.length} (${measured} in the measured window), ${r.delivery.received} messages; main-thread heap ${mb(process.memoryUsage().heapUsed)}\n`);
    process.stdout.write(`RSS at the start of the window: ${mb(start)} (median of the first tenth of ${n} samples)\n`);
    process.stdout.write(`RSS at the end of the window:   ${mb(end)} (${(((end - start) / start) * 100).toFixed(1)}%; median of the last tenth)\n`);
    process.stdout.write(`RSS with the result assembled:  ${mb(afterResult)} (its ${r.intervals.length} interval rows included)\n`);
    process.stdout.write(`within ${BOUND * 100}%: ${met ? 'met' : 'NOT met'}\n`);
    return met ? 0 : 1;
  } catch (err) {
    if (runawayAt === undefined) throw err;
    process.stdout.write(`RSS at the start of the window: ${mb(samples.first)}\n`);
    process.stdout.write(`RSS passed ${RUNAWAY_FACTOR}x that after ${runawayAt} measured intervals (${mb(samples.last)}): stopped\n`);
    process.stdout.write(`within ${BOUND * 100}%: NOT met\n`);
    return 1;
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`interval-memory: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
