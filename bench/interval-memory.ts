/**
 * Memory of the runner's interval aggregation over a long run:
 *
 *   npx tsx bench/interval-memory.ts [--intervals N] [--interval-ms N] [--rate N] [--warmup-ms N]
 *
 * Drives the real runner (runOnce) on the in-process ring buffer with a tiny interval,
 * so every interval goes through the same path as in any run: the consumer's report, the
 * main thread's reduction, the .hlog. Prints the process's RSS (main thread and workers:
 * one process) at the start of the measured window and at its end, and whether the end
 * is within 10% of the start. The start is taken after a warm-up (10 s by default) in
 * which V8 grows the heaps of the main thread and the workers to their working size; it
 * sizes them lazily, so RSS in the first seconds says nothing about growth with run
 * length. Main-thread heap use is printed beside RSS. The run stops early, "NOT met", as soon as RSS exceeds
 * that bound, so an aggregation that keeps every interval cannot take the machine's
 * memory. The result's own rows (one small object per interval, built after the run)
 * are reported apart, as RSS after the result is assembled.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { adapter } from '../src/adapters/ringbuffer/index.ts';
import { UsageError } from '../src/core/errors.ts';
import { runOnce, type Progress, type RunSpec } from '../src/scenarios/runner.ts';

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
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { intervals: { type: 'string', default: '100000' }, 'interval-ms': { type: 'string', default: '1' }, rate: { type: 'string', default: '2000' }, 'warmup-ms': { type: 'string', default: '10000' } } });
  const intervals = positive('intervals', values.intervals);
  const intervalMs = positive('interval-ms', values['interval-ms']);
  const rate = positive('rate', values.rate);
  const warmupMs = positive('warmup-ms', values['warmup-ms']);
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-interval-memory-'));
  const aborter = new AbortController();
  let startRss = 0;
  let endRss = 0;
  let startHeap = 0;
  let endHeap = 0;
  let exceededAt: Progress | undefined;
  const progress = (p: Progress): void => {
    const rss = process.memoryUsage.rss();
    if (p.phase !== 'measure') return;
    const heap = process.memoryUsage().heapUsed;
    if (startRss === 0) [startRss, startHeap] = [rss, heap];
    [endRss, endHeap] = [rss, heap];
    if (!exceededAt && rss > startRss * (1 + BOUND)) {
      exceededAt = p;
      aborter.abort();
    }
  };
  process.stdout.write(`interval-memory: ${intervals} intervals of ${intervalMs} ms through the runner (ringbuffer inline, ${rate} msg/s, ${warmupMs / 1000} s warm-up first)\n`);
  try {
    const r = await runOnce(spec(runDir, intervals, intervalMs, rate, warmupMs), { progress, signal: aborter.signal });
    const afterResult = process.memoryUsage.rss();
    const measured = r.intervals.filter((i) => i.phase === 'measure').length;
    const within = Math.abs(endRss - startRss) <= startRss * BOUND;
    process.stdout.write(`intervals aggregated: ${r.intervals.length} (${measured} in the measured window), ${r.delivery.received} messages\n`);
    process.stdout.write(`RSS at the start of the window: ${(startRss / MB).toFixed(1)} MB (main-thread heap ${(startHeap / MB).toFixed(1)} MB)\n`);
    process.stdout.write(`RSS at the end of the window:   ${(endRss / MB).toFixed(1)} MB (${(((endRss - startRss) / startRss) * 100).toFixed(1)}%; main-thread heap ${(endHeap / MB).toFixed(1)} MB)\n`);
    process.stdout.write(`RSS with the result assembled:  ${(afterResult / MB).toFixed(1)} MB (its ${r.intervals.length} interval rows included)\n`);
    process.stdout.write(`within ${BOUND * 100}%: ${within && measured >= intervals ? 'met' : 'NOT met'}\n`);
    return within && measured >= intervals ? 0 : 1;
  } catch (err) {
    if (!exceededAt) throw err;
    process.stdout.write(`RSS at the start of the window: ${(startRss / MB).toFixed(1)} MB\n`);
    const intervalsSoFar = Math.round((exceededAt.elapsedMs - warmupMs) / intervalMs);
    process.stdout.write(`RSS exceeded it by more than ${BOUND * 100}% after ${intervalsSoFar} measured intervals (${(endRss / MB).toFixed(1)} MB; main-thread heap ${(endHeap / MB).toFixed(1)} MB): stopped\n`);
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
