/**
 * npx tsx bench/powerfs-overhead.ts [--rounds R] [--duration 8s] [--sync default|always] [--rate max|N]
 *
 * What the power-loss filesystem layer costs: the tps scenario's load on NATS JetStream
 * file storage (1 producer, 1 consumer, 512 B, closed loop), with the store directory on
 * the layer and directly on the disk, in alternating rounds (which goes first alternates
 * too), one broker start per run. Prints every run, both medians, the ratio of medians
 * and the spread of the per-round ratios. Target: through the layer >= 0.5 x direct.
 *
 * The layer keeps unsynced writes in its own memory and pays a real fsync when the broker
 * syncs, so `--sync always` (an fsync per batch) shows its worst case. It runs as the
 * lose-unsynced power-loss scenarios run it: with the kernel's FUSE write-back cache, so
 * the broker's write()s reach the layer as the kernel's page write-backs.
 *
 * Where the target is missed, it prints what the layer did: the cost of one 512-byte
 * write() through a mount and directly on the same disk, and the layer's write requests
 * per message sent and bytes per request (the layer's own counters, in the result's
 * broker.detail). Without the cache every write() was one such request, a round trip
 * to the layer's process, and that alone bounded the layer at 0.29x here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adapter } from '../src/adapters/nats/index.ts';
import { runOnce, type RunSpec } from '../src/harness/runner.ts';
import { parseDurationMs } from '../src/core/units.ts';
import { fuseProblem, PowerFs } from '../src/brokers/powerfs/index.ts';
import { onInterrupt } from '../src/brokers/common/signals.ts';

const TARGET = 0.5;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

function usage(message: string): never {
  process.stderr.write(`bench/powerfs-overhead.ts: ${message}\n`);
  process.exit(2);
}

const ROUNDS = Number(arg('rounds', '3'));
const DURATION_MS = parseDurationMs(arg('duration', '8s'));
const SYNC = arg('sync', 'default');
const RATE = arg('rate', 'max');
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 20) usage(`--rounds ${arg('rounds', '')}: expected an integer from 1 to 20`);
if (DURATION_MS === undefined || DURATION_MS < 1000) usage(`--duration ${arg('duration', '')}: expected a duration of at least 1s, e.g. 8s`);
if (SYNC !== 'default' && SYNC !== 'always') usage(`--sync ${SYNC}: expected default or always`);
const ratePerSec = RATE === 'max' ? 0 : Number(RATE);
if (!Number.isFinite(ratePerSec) || ratePerSec < 0) usage(`--rate ${RATE}: expected max or a number of msg/s`);

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-powerfs-overhead-'));
onInterrupt(async () => fs.rmSync(base, { recursive: true, force: true }));
let runs = 0;

function spec(onLayer: boolean): RunSpec {
  const runDir = path.join(base, `run-${++runs}`);
  return {
    system: 'nats',
    adapter,
    options: adapter.parseOptions({ storage: 'file', syncInterval: SYNC }, 'bench/powerfs-overhead.ts'),
    label: onLayer ? 'through the layer' : 'direct',
    runId: `pfo${process.pid}_${runs}`,
    runDir,
    brokers: 'native',
    externalUrls: {},
    ratePerSec,
    load: { durationMs: DURATION_MS!, warmupMs: 2000, drainTimeoutMs: 30_000, intervalMs: 1000, producers: 1, consumers: 1, messageSize: 512, maxInFlight: 1000, batchSize: 128, workUs: 0 },
    ...(onLayer ? { powerLossLayer: true } : {}),
  };
}

interface LayerWrites {
  perMsg: number;
  bytesEach: number;
}

/** msg/s, and on the layer its write requests per message sent and bytes per request (the layer's own counts). */
async function measure(onLayer: boolean): Promise<{ rate: number; writes?: LayerWrites }> {
  const r = await runOnce(spec(onLayer));
  if (r.status === 'failed') throw new Error(`${onLayer ? 'layer' : 'direct'} run failed: ${r.error ?? 'no reason given'}`);
  const writes = r.broker?.detail?.layerWrites;
  const bytes = r.broker?.detail?.layerBytesWritten;
  if (typeof writes !== 'number' || typeof bytes !== 'number' || writes === 0 || r.delivery.sent === 0) return { rate: r.throughput.msgsPerSec };
  return { rate: r.throughput.msgsPerSec, writes: { perMsg: writes / r.delivery.sent, bytesEach: bytes / writes } };
}

/** µs per 512-byte append through a fresh mount (as the runs mount it) and directly on the same disk. */
async function writeRoundTrip(): Promise<{ layerUs: number; directUs: number }> {
  const dir = path.join(base, 'round-trip');
  const [backing, mountpoint] = [`${dir}/backing`, `${dir}/mount`];
  for (const d of [backing, mountpoint]) fs.mkdirSync(d, { recursive: true });
  const layer = await PowerFs.mount({ backing, mountpoint });
  const usPerWrite = (file: string): number => {
    const fd = fs.openSync(file, 'a');
    const chunk = Buffer.alloc(512, 7);
    const n = 20_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fs.writeSync(fd, chunk);
    const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
    fs.closeSync(fd);
    return us;
  };
  try {
    return { layerUs: usPerWrite(path.join(mountpoint, 'appends')), directUs: usPerWrite(path.join(backing, 'direct')) };
  } finally {
    await layer.unmount();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const k = (v: number): string => `${(v / 1000).toFixed(1)}k`;

async function main(): Promise<void> {
  const why = fuseProblem();
  if (why) usage(`the power-loss layer cannot run here: ${why}`);
  console.log(`NATS file storage (sync ${SYNC}), 1P1C, 512 B, ${RATE === 'max' ? 'closed loop' : `${RATE} msg/s`}, ${DURATION_MS! / 1000} s per run, ${ROUNDS} rounds`);
  const direct: number[] = [];
  const layer: number[] = [];
  const writes: LayerWrites[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [false, true] : [true, false];
    for (const onLayer of order) {
      const m = await measure(onLayer);
      (onLayer ? layer : direct).push(m.rate);
      if (m.writes) writes.push(m.writes);
    }
    console.log(`round ${round + 1}: direct ${k(direct[round]!)} msg/s, through the layer ${k(layer[round]!)} msg/s, ratio ${(layer[round]! / direct[round]!).toFixed(2)}×`);
  }
  const ratios = layer.map((l, i) => l / direct[i]!);
  const ratio = median(layer) / median(direct);
  console.log(`median: direct ${k(median(direct))} msg/s, through the layer ${k(median(layer))} msg/s`);
  console.log(`ratio of medians ${ratio.toFixed(2)}× (per-round ratios ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`);
  console.log(`target: through the layer >= ${TARGET}× direct: ${ratio >= TARGET ? 'MET' : 'NOT MET'}`);
  if (writes.length > 0) console.log(`the layer received ${median(writes.map((w) => w.perMsg)).toFixed(4)} write requests per message sent, ${(median(writes.map((w) => w.bytesEach)) / 1024).toFixed(1)} KiB each (medians of ${writes.length} runs)`);
  if (ratio < TARGET) await explainMiss();
  fs.rmSync(base, { recursive: true, force: true });
  process.exitCode = ratio >= TARGET ? 0 : 1;
}

/** What a write() costs through the layer, next to the layer's requests per message printed above. */
async function explainMiss(): Promise<void> {
  const rt = await writeRoundTrip();
  console.log(`why: one 512 B write() costs ${rt.layerUs.toFixed(1)} µs through the layer vs ${rt.directUs.toFixed(1)} µs on the disk directly (20,000 appends, this machine); the layer's process competes with the broker and busbench for the same cores`);
}

main().catch((err: unknown) => {
  console.error(`bench/powerfs-overhead.ts: ${err instanceof Error ? err.message : String(err)}`);
  fs.rmSync(base, { recursive: true, force: true });
  process.exit(1);
});
