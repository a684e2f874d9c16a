/**
 * The ring through the harness: one runOnce, the run `npm run bench` does for a
 * ringbuffer cell (its Control, producer loop, consumer loop, ledger and drain), with
 * 1 producer and 1 consumer. Only the worker module differs: ring-perf-side.ts passes
 * the real ring producer and consumer through and adds the split, parks and profiles.
 */
import type { SystemAdapter, SystemSession } from '../src/core/contract.ts';
import type { SystemResult } from '../src/core/result.ts';
import { loadAdapter } from '../src/adapters/registry.ts';
import { runOnce } from '../src/harness/runner.ts';
import { fmtUs, OPEN_LOOP_WARMUP_MS, SIZE, WARMUP_MS, type Figure } from './ring-perf-figures.ts';
import { breakdownLines, createTailBuffers, stallLines, stallMsPerSec, summarizeStalls, watchMain, watchWindowThreads } from './ring-perf-probe.ts';
import {
  createStats,
  STAT_CONSUMER_LOOP_NS,
  STAT_CONSUMER_PARKS,
  STAT_CONSUMER_RECEIVE_NS,
  STAT_CONSUMER_TIMED,
  STAT_CONSUMER_WAIT_NS,
  STAT_LOOP_NS,
  STAT_PRODUCER_PARKS,
  STAT_PRODUCER_WAIT_NS,
  STAT_SEND_NS,
  STAT_TIMED,
  type ProbeInit,
} from './ring-perf-side.ts';

const SIDE_MODULE = new URL('./ring-perf-side.ts', import.meta.url).href;


/** the ring as the engine holds it (erased types), so the probe can wrap its init */
const adapter = await loadAdapter('ringbuffer');
export interface HarnessFigure {
  name: string;
  /** the ringbuffer section of a scenario */
  options: Record<string, unknown>;
  batch: number;
  /** messages per second, 0 = closed loop */
  rate: number;
}

/** The ring adapter, whose sessions hand the workers a probe wrapped around the ring's init. */
function probed(probe: Omit<ProbeInit, 'ring'>): SystemAdapter {
  return {
    ...adapter,
    async open(ctx): Promise<SystemSession> {
      const s = await adapter.open(ctx);
      return {
        workerInit: { ...probe, ring: s.workerInit },
        config: s.config,
        ...(s.faults ? { faults: s.faults } : {}),
        ...(s.brokerCounts ? { brokerCounts: s.brokerCounts.bind(s) } : {}),
        ...(s.undelivered ? { undelivered: s.undelivered.bind(s) } : {}),
        close: () => s.close(),
      };
    },
  };
}

const INTERVAL_MS = 1000;

export async function harnessFigure(f: HarnessFigure, seconds: number, profileDir: string | undefined): Promise<Figure> {
  // Two clock reads per batch split the time; only in closed loop, where batches are full.
  const split = f.rate === 0;
  const statsBuffer = createStats();
  // Open loop: where the tail comes from (ring-perf-probe.ts); closed loop's clock reads go to the split.
  const tail = split ? undefined : createTailBuffers();
  const main = watchMain();
  const warmupMs = f.rate > 0 ? OPEN_LOOP_WARMUP_MS : WARMUP_MS;
  const others = tail ? watchWindowThreads(warmupMs) : undefined;
  const result = await runOnce({
    system: adapter.name,
    adapter: probed({ stats: statsBuffer, split, profileDir: profileDir ?? '', ...(tail ? { tail } : {}) }),
    workerModule: SIDE_MODULE,
    options: adapter.parseOptions(f.options, 'bench/ring-perf.ts'),
    label: f.name.trim(),
    runId: 'ring-perf',
    runDir: '/tmp/busbench-ring-perf',
    brokers: 'native',
    externalUrls: {},
    ratePerSec: f.rate,
    load: {
      durationMs: seconds * 1000,
      warmupMs,
      drainTimeoutMs: 10_000,
      intervalMs: INTERVAL_MS,
      producers: 1,
      consumers: 1,
      messageSize: SIZE,
      maxInFlight: 1000,
      batchSize: f.batch,
      workUs: 0,
    },
  }, others ? { onSession: others.onSession } : {});
  const mainSide = main();
  const othersLine = others?.line();
  const stalls = tail ? stallLines(summarizeStalls(tail, seconds * 1e9, INTERVAL_MS * 1e6)) : [];
  const breakdown = tail ? [...breakdownLines(tail, result.latency.sendDelay, result.latency.e2e, mainSide), ...stalls, ...(othersLine ? [othersLine] : []), intervalLine(result)] : undefined;
  const stall = tail ? stallMsPerSec(tail) : undefined;
  const stats = new Float64Array(statsBuffer);
  const busy = split ? busyNs(stats) : undefined;
  return {
    name: f.name,
    msgsPerSec: result.throughput.msgsPerSec,
    latency: result.latency.e2e,
    note: noteOf(f, result, stats, busy),
    ...(breakdown ? { breakdown } : {}),
    ...(busy ? { busyNs: busy } : {}),
    ...(stall ? { stallMsPerSec: stall } : {}),
  };
}

/** Each interval's e2e p99 and send-delay p99 (ms), warm-up first: a transient and a steady state look different here. */
function intervalLine(r: SystemResult): string {
  const ms = (us: number | undefined): string => (us === undefined ? '-' : (us / 1000).toFixed(2));
  const cells = r.intervals.filter((i) => i.phase !== 'drain').map((i) => `${i.phase === 'warmup' ? 'w' : 'm'} ${ms(i.p99)}/${ms(i.sendDelayP99)}`);
  return `  per ${r.intervals.length > 0 ? '1 s ' : ''}interval, p99 e2e/send delay in ms (w: warm-up, m: measured): ${cells.join(' | ')}`;
}

/**
 * Each side's working time per message: its share of the loop (harness work and the
 * system call) minus what it spent waiting for the other side (a full lane, an empty
 * one). With a core to itself, the slower side would set the rate at 1e9 / its ns.
 */
function busyNs(stats: Float64Array): { producer: number; consumer: number } | undefined {
  const pTimed = stats[STAT_TIMED]!;
  const cTimed = stats[STAT_CONSUMER_TIMED]!;
  const pWait = stats[STAT_PRODUCER_WAIT_NS]!;
  const cWait = stats[STAT_CONSUMER_WAIT_NS]!;
  if (pTimed <= 0 || cTimed <= 0 || pWait < 0 || cWait < 0) return undefined;
  return {
    producer: (stats[STAT_LOOP_NS]! + stats[STAT_SEND_NS]! - pWait) / pTimed,
    consumer: (stats[STAT_CONSUMER_LOOP_NS]! + stats[STAT_CONSUMER_RECEIVE_NS]! - cWait) / cTimed,
  };
}

function noteOf(f: HarnessFigure, r: SystemResult, stats: Float64Array, busy: { producer: number; consumer: number } | undefined): string {
  const c = r.config;
  const per = (slot: number, timed: number): string => (stats[slot]! / timed).toFixed(0);
  const p = stats[STAT_TIMED]!;
  const k = stats[STAT_CONSUMER_TIMED]!;
  const splitNote = busy
    ? `; producer ns/msg: harness loop ${per(STAT_LOOP_NS, p)}, send ${per(STAT_SEND_NS, p)} (waiting for room ${per(STAT_PRODUCER_WAIT_NS, p)}), busy ${busy.producer.toFixed(0)}` +
      `; consumer ns/msg: harness ${per(STAT_CONSUMER_LOOP_NS, k)}, receive ${per(STAT_CONSUMER_RECEIVE_NS, k)} (waiting for data ${per(STAT_CONSUMER_WAIT_NS, k)}), busy ${busy.consumer.toFixed(0)}`
    : '';
  const parks = (slot: number): string => (stats[slot]! >= 0 ? String(stats[slot]) : '?');
  const parksNote = c.wait === 'block' ? `; parks: consumer ${parks(STAT_CONSUMER_PARKS)}, producer ${parks(STAT_PRODUCER_PARKS)}` : '';
  const d = r.latency.sendDelay;
  const delay = d ? `; send delay p50 ${fmtUs(d.p50)} p99 ${fmtUs(d.p99)} p99.9 ${fmtUs(d.p999)} µs` : '';
  // a run the harness would not vouch for says so next to its figure
  const verdict = [r.status !== 'ok' ? `status ${r.status}` : '', r.error ?? ''].filter(Boolean).join(': ');
  return `batch ${f.batch}, padding ${String(c.padding)}, wait ${String(c.wait)}, ${Number(c.capacity) >> 20} MiB${splitNote}${parksNote}${delay}${verdict ? `; ${verdict}` : ''}`;
}
