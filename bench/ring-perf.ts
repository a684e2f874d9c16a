/**
 * Performance of the in-process ring buffer, with the reference points that explain it,
 * all measured in the same run:
 *
 *   npx tsx bench/ring-perf.ts [--seconds N] [--batch N] [--repeat N] [--only a,b,...] [--profile DIR]
 *
 * --repeat N runs every figure N times, round-robin, and reports the median run: on a
 * shared machine the figures compared then see the same background load. The "others"
 * column says how much CPU other processes took meanwhile; a figure measured while it
 * was high says little. --profile DIR writes a CPU profile of every worker thread.
 *
 * The ring figures are runs of the harness itself (ring-perf-harness.ts): runOnce with
 * 1 producer and 1 consumer, so its Control, producer loop, consumer loop and ledger do
 * what `npm run bench` does, and throughput, e2e latency and send delay are the
 * harness's own. The transport-only figure, the postMessage reference and the
 * false-sharing experiment need loops without the harness's work in them: those are
 * minimal raw loops (ring-perf-raw.ts) on the harness's Control.
 */
import os from 'node:os';
import path from 'node:path';
import { measureClockCost } from '../src/core/clock.ts';
import { floorFigures, fmtRate, fmtUs, memcpyFigure, schedulingNoise, SIZE, WARMUP_MS, type Figure } from './ring-perf-figures.ts';
import { harnessFigure } from './ring-perf-harness.ts';
import { bareRingFigure, falseSharingFigure, postMessageFigure } from './ring-perf-raw.ts';

interface CpuSnapshot {
  busyMs: number;
  totalMs: number;
  oursUs: number;
}

function cpuSnapshot(): CpuSnapshot {
  let busyMs = 0;
  let totalMs = 0;
  for (const { times: t } of os.cpus()) {
    const busy = t.user + t.nice + t.sys + t.irq;
    busyMs += busy;
    totalMs += busy + t.idle;
  }
  const u = process.cpuUsage();
  return { busyMs, totalMs, oursUs: u.user + u.system };
}

/** Measures a figure and how busy the rest of the machine was meanwhile (figures from a busy machine are suspect). */
async function measured(f: () => Figure | Promise<Figure>): Promise<Figure> {
  const a = cpuSnapshot();
  const fig = await f();
  const b = cpuSnapshot();
  const others = b.busyMs - a.busyMs - (b.oursUs - a.oursUs) / 1000;
  return { ...fig, otherLoad: Math.max(0, others) / Math.max(1, b.totalMs - a.totalMs) };
}

function printTable(figures: Figure[]): void {
  const pct = (v: number | undefined): string => (v === undefined ? '' : `${(v * 100).toFixed(0)}%`);
  const rows = figures.map((f) => [f.name, fmtRate(f.msgsPerSec), fmtUs(f.latency?.p50), fmtUs(f.latency?.p99), fmtUs(f.latency?.p999), pct(f.otherLoad), f.note ?? '']);
  const head = ['figure', 'msg/s', 'p50 µs', 'p99 µs', 'p99.9 µs', 'others', 'settings'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i >= 1 && i <= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

interface Flags {
  seconds: number;
  batch: number;
  only: Section[] | undefined;
  profile: string | undefined;
  repeat: number;
}

const SECTIONS = ['ring', 'padding', 'rate', 'wait', 'falsesharing', 'unbatched', 'memcpy', 'postmessage', 'floor', 'clock', 'noise'] as const;
type Section = (typeof SECTIONS)[number];
const isSection = (s: string): s is Section => (SECTIONS as readonly string[]).includes(s);

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { seconds: 3, batch: 128, only: undefined, profile: undefined, repeat: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    if (a === '--seconds' && v && Number(v) > 0) flags.seconds = Number(v);
    else if (a === '--batch' && v && Number.isInteger(Number(v)) && Number(v) > 0) flags.batch = Number(v);
    else if (a === '--only' && v && v.split(',').every(isSection)) flags.only = v.split(',').filter(isSection);
    else if (a === '--repeat' && v && Number.isInteger(Number(v)) && Number(v) > 0) flags.repeat = Number(v);
    else if (a === '--profile' && v) flags.profile = path.resolve(v);
    else {
      console.error(`usage: npx tsx bench/ring-perf.ts [--seconds N] [--batch N] [--repeat N] [--only ${SECTIONS.join(',')}] [--profile DIR]`);
      process.exit(2);
    }
    i++;
  }
  return flags;
}

/** A figure to measure, by a name the summary lines can find it under. */
interface Plan {
  key: string;
  run: () => Figure | Promise<Figure>;
}

function plan(seconds: number, batch: number, want: (s: Section) => boolean, profile: string | undefined): Plan[] {
  const p: Plan[] = [];
  const ring = (key: string, name: string, options: Record<string, unknown>, b: number, rate: number): void => {
    p.push({ key, run: () => harnessFigure({ name, options, batch: b, rate }, seconds, profile) });
  };
  if (want('ring')) {
    ring('closed', 'ring 1P+1C, closed loop', { padding: 'on' }, batch, 0);
    p.push({ key: 'bare', run: () => bareRingFigure('  same, transport only (no stamp/decode)', {}, batch, seconds, profile) });
  }
  if (want('padding')) ring('closed-unpadded', 'ring 1P+1C, closed loop, padding off', { padding: 'off' }, batch, 0);
  if (want('rate')) ring('rate', 'ring 1P+1C, open loop 1 M msg/s', {}, 64, 1e6);
  if (want('wait')) {
    for (const wait of ['spin', 'yield'] as const) {
      ring(`closed-${wait}`, `ring closed loop, wait ${wait}`, { wait }, batch, 0);
      ring(`rate-${wait}`, `ring open loop 1 M msg/s, wait ${wait}`, { wait }, 64, 1e6);
    }
  }
  if (want('falsesharing')) for (const padded of [true, false]) p.push({ key: `index-${padded ? 'on' : 'off'}`, run: () => falseSharingFigure(padded, seconds, profile) });
  if (want('unbatched')) {
    // The false-sharing experiment where it can show: one index store per message.
    for (const padding of ['on', 'off'] as const) ring(`batch1-${padding}`, `ring closed loop, batch 1, padding ${padding}`, { padding }, 1, 0);
  }
  const short = Math.min(seconds, 1);
  if (want('memcpy')) for (const shared of [false, true]) p.push({ key: `memcpy-${shared}`, run: () => memcpyFigure(short, shared) });
  if (want('postmessage')) p.push({ key: 'postmessage', run: () => postMessageFigure(seconds, profile) });
  if (want('floor')) floorFigures(short, batch).forEach((run, i) => p.push({ key: `floor-${i}`, run }));
  return p;
}

/** The run with the median throughput, with the most any other process took during the runs. */
function median(runs: Figure[]): Figure {
  const sorted = [...runs].sort((a, b) => a.msgsPerSec - b.msgsPerSec);
  const mid = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const otherLoad = Math.max(...runs.map((r) => r.otherLoad ?? 0));
  return { ...mid, otherLoad, ...(runs.length > 1 ? { note: `${mid.note ?? ''}; median of ${runs.length}` } : {}) };
}

async function main(): Promise<void> {
  const { seconds, batch, only, profile, repeat } = parseFlags(process.argv.slice(2));
  const want = (s: Section): boolean => !only || only.includes(s);
  const clock = measureClockCost();
  console.log(`ring-perf: ${SIZE}-byte messages, ${seconds} s per figure after ${WARMUP_MS} ms warm-up, harness batch ${batch}, ${repeat} round(s)`);
  console.log(`clock: monoNs() costs ${clock.nsPerCall.toFixed(0)} ns per call, resolution ${clock.resolutionNs} ns\n`);

  // Rounds go over every figure in turn, so the figures compared share the machine's moods.
  const plans = plan(seconds, batch, want, profile);
  const runs = new Map<string, Figure[]>(plans.map((p) => [p.key, []]));
  for (let round = 0; round < repeat; round++) {
    for (const p of plans) {
      const fig = await measured(p.run);
      runs.get(p.key)!.push(fig);
      console.log(`  measured: ${fig.name.trim()}: ${fmtRate(fig.msgsPerSec)} (others ${((fig.otherLoad ?? 0) * 100).toFixed(0)}%)`);
    }
  }
  const result = new Map([...runs].map(([k, list]) => [k, median(list)]));
  const figures = [...result.values()];
  if (want('clock')) figures.push({ name: 'clock read (monoNs)', msgsPerSec: 1e9 / clock.nsPerCall, note: `${clock.nsPerCall.toFixed(0)} ns per call` });
  const noise = want('noise') ? schedulingNoise(Math.min(seconds, 2)) : undefined;

  console.log('');
  printTable(figures);
  console.log('"others": CPU that other processes used during the figure, as a share of the machine.');
  if (noise) console.log(noise);
  console.log('');
  printSummary(result, batch);
}

/** The ratios and targets, from the figures' medians by key. */
function printSummary(result: Map<string, Figure>, batch: number): void {
  const ratio = (a: string, b: string): string | undefined => {
    const x = result.get(a);
    const y = result.get(b);
    return x && y ? `${(x.msgsPerSec / y.msgsPerSec).toFixed(2)}x` : undefined;
  };
  const batched = ratio('closed', 'closed-unpadded');
  if (batched) console.log(`false sharing (batch ${batch}): padding on / off = ${batched} (reference document: 89.6 / 12.4 = 7.2x)`);
  const single = ratio('batch1-on', 'batch1-off');
  if (single) console.log(`false sharing (batch 1): padding on / off = ${single}`);
  const bare = ratio('index-on', 'index-off');
  if (bare) console.log(`false sharing (head/tail stores alone): padding on / off = ${bare}`);
  const closed = result.get('closed');
  if (closed) {
    const met = closed.msgsPerSec >= 5e6;
    console.log(`target >= 5 M msg/s (ring 1P+1C, closed loop): ${fmtRate(closed.msgsPerSec)}: target ${met ? 'met' : 'NOT met'}`);
  }
  const fixed = result.get('rate');
  if (fixed?.latency) {
    const met = fixed.latency.p99 < 50 && fixed.msgsPerSec >= 0.99e6;
    console.log(`target p99 < 50 µs at 1 M msg/s (open loop): p99 ${fmtUs(fixed.latency.p99)} µs at ${fmtRate(fixed.msgsPerSec)}: target ${met ? 'met' : 'NOT met'}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
