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
import { fmtUs, SIZE, WARMUP_MS, type Figure } from './ring-perf-figures.ts';
import { breakdownLines, createTailBuffers, watchMain } from './ring-perf-probe.ts';
import { createStats, STAT_CONSUMER_PARKS, STAT_LOOP_NS, STAT_PRODUCER_PARKS, STAT_SEND_NS, STAT_TIMED, type ProbeInit } from './ring-perf-side.ts';

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

export async function harnessFigure(f: HarnessFigure, seconds: number, profileDir: string | undefined): Promise<Figure> {
  // Two clock reads per batch split the time; only in closed loop, where batches are full.
  const split = f.rate === 0;
  const statsBuffer = createStats();
  // Open loop: where the tail comes from (ring-perf-probe.ts); closed loop's clock reads go to the split.
  const tail = split ? undefined : createTailBuffers();
  const main = watchMain();
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
      warmupMs: WARMUP_MS,
      drainTimeoutMs: 10_000,
      intervalMs: 1000,
      producers: 1,
      consumers: 1,
      messageSize: SIZE,
      maxInFlight: 1000,
      batchSize: f.batch,
      workUs: 0,
    },
  });
  const mainSide = main();
  const breakdown = tail ? breakdownLines(tail, result.latency.sendDelay, result.latency.e2e, mainSide) : undefined;
  return {
    name: f.name,
    msgsPerSec: result.throughput.msgsPerSec,
    latency: result.latency.e2e,
    note: noteOf(f, result, new Float64Array(statsBuffer), split),
    ...(breakdown ? { breakdown } : {}),
  };
}

function noteOf(f: HarnessFigure, r: SystemResult, stats: Float64Array, split: boolean): string {
  const c = r.config;
  const timed = stats[STAT_TIMED]!;
  const perMsg = (slot: number): string => (stats[slot]! / timed).toFixed(0);
  const splitNote = split && timed > 0 ? `; producer ns/msg: harness loop ${perMsg(STAT_LOOP_NS)}, send ${perMsg(STAT_SEND_NS)}` : '';
  const parks = (slot: number): string => (stats[slot]! >= 0 ? String(stats[slot]) : '?');
  const parksNote = c.wait === 'block' ? `; parks: consumer ${parks(STAT_CONSUMER_PARKS)}, producer ${parks(STAT_PRODUCER_PARKS)}` : '';
  const d = r.latency.sendDelay;
  const delay = d ? `; send delay p50 ${fmtUs(d.p50)} p99 ${fmtUs(d.p99)} p99.9 ${fmtUs(d.p999)} µs` : '';
  // a run the harness would not vouch for says so next to its figure
  const verdict = [r.status !== 'ok' ? `status ${r.status}` : '', r.error ?? ''].filter(Boolean).join(': ');
  return `batch ${f.batch}, padding ${String(c.padding)}, wait ${String(c.wait)}, ${Number(c.capacity) >> 20} MiB${splitNote}${parksNote}${delay}${verdict ? `; ${verdict}` : ''}`;
}
