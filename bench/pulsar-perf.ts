/**
 * npx tsx bench/pulsar-perf.ts [--round 15s] [--rounds 3] [--windows 1000,10000]
 *
 * busbench's Pulsar client against Apache's own load generator on one native standalone:
 *   pulsar-perf: `pulsar-perf produce` and `pulsar-perf consume` (Java client) started
 *                together on a fresh topic, each for one round: consume msg/s from its
 *                "Aggregated throughput stats" line, produce msg/s as the records that
 *                line counts over the time from "Created 1 producers" to "DONE" (its own
 *                aggregate, printed too, also counts ~5 s before and after sending);
 *   busbench:    `bench --scenario tps --systems pulsar --brokers external` on the same
 *                broker, its measured window one round (after its usual 5 s warm-up):
 *                messages handed over per second (produce) and first deliveries per
 *                second (consume).
 * Same message size (512 B), batching (1 ms, 1000 messages, 128 KiB: busbench's defaults,
 * pulsar-perf -b 1 -bm 1000 -bb 131072) and window (busbench --in-flight = pulsar-perf -o),
 * 1 producer and 1 consumer. Rounds alternate which side goes first. Prints every round,
 * the medians with their spread, busbench/pulsar-perf of the medians, and per window
 * "target ≥ 1.0×: met|NOT met" (met: both produce and consume ratios ≥ 1.0).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { flagLines, parseArgv, type FlagSpec } from '../src/core/argv.ts';
import { BrokerError, UsageError } from '../src/core/errors.ts';
import { parseDurationMs } from '../src/core/units.ts';
import type { SystemResult } from '../src/core/result.ts';
import { NativePulsar } from '../src/brokers/pulsar/native.ts';
import { PulsarAdmin } from '../src/brokers/pulsar/admin.ts';
import { ensurePulsar, type PulsarInstall } from '../src/brokers/pulsar/install.ts';
import { finishPulsarTool, startPulsarTool } from '../src/brokers/pulsar/tools.ts';
import { onInterrupt } from '../src/brokers/common/signals.ts';
import { runCli } from '../src/report/io/cli.ts';
import { spread } from '../src/scenario/matrix.ts';

const SIZE = 512;
/** pulsar-perf refuses -r 0; this is far above what one producer reaches here */
const UNLIMITED_RATE = '100000000';
/** JVM start and shutdown on two busy cores, beyond the round itself */
const TOOL_SLACK_MS = 120_000;
const run = promisify(execFile);

const FLAGS: FlagSpec[] = [
  { name: 'round', value: '<time>', help: 'length of one round (default 15s; 5s to 10m)' },
  { name: 'rounds', value: '<n>', help: 'rounds per side per window (default 3; 1 to 50)' },
  { name: 'windows', value: '<n,...>', help: 'in-flight windows: busbench --in-flight = pulsar-perf -o (default 1000,10000)' },
  { name: 'help', help: 'show this help' },
];

interface Settings {
  roundMs: number;
  rounds: number;
  windows: number[];
}

type Side = 'pulsar-perf' | 'busbench';

interface Rates {
  produce: number;
  consume: number;
  /** pulsar-perf only: its own aggregate produce msg/s (see producedPerSec) */
  ownProduce?: number;
}

interface Ctx {
  install: PulsarInstall;
  broker: NativePulsar;
  admin: PulsarAdmin;
  dir: string;
  s: Settings;
}

function settings(argv: string[]): Settings | null {
  const a = parseArgv(argv, FLAGS, { positional: false, emptyValues: false });
  if (a.booleans.has('help')) return null;
  const round = a.values.get('round') ?? '15s';
  const roundMs = parseDurationMs(round);
  if (roundMs === undefined || roundMs < 5_000 || roundMs > 600_000) throw new UsageError(`--round ${round}: expected a duration from 5s to 10m, e.g. 15s`);
  const roundsText = a.values.get('rounds') ?? '3';
  const rounds = Number(roundsText);
  if (!/^\d+$/.test(roundsText) || rounds < 1 || rounds > 50) throw new UsageError(`--rounds ${roundsText}: expected a whole number from 1 to 50`);
  const windowsText = a.values.get('windows') ?? '1000,10000';
  const windows = windowsText.split(',').map((w) => w.trim());
  for (const w of windows) if (!/^\d+$/.test(w) || Number(w) < 1 || Number(w) > 1_000_000) throw new UsageError(`--windows ${windowsText}: "${w}" is not a window; expected whole numbers from 1 to 1000000, e.g. 1000,10000`);
  return { roundMs, rounds, windows: windows.map(Number) };
}

function aggregated(out: string, what: 'sent' | 'received'): { count: number; rate: number } {
  const m = new RegExp(`Aggregated throughput stats --- (\\d+) records ${what} --- ([\\d.]+)\\s+msg/s`).exec(out);
  if (!m || Number(m[1]) === 0) throw new BrokerError(`pulsar-perf: no messages ${what} (no "Aggregated throughput stats" line with a count)`, out.split('\n').slice(-30).join('\n'));
  return { count: Number(m[1]), rate: Number(m[2]) };
}

/** Milliseconds of the log line's timestamp ("2026-12-02T04:14:25,072+0000 ..."). */
function stampOf(out: string, marker: RegExp): number {
  const line = out.split('\n').find((l) => marker.test(l));
  const m = line ? /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d),(\d{3})/.exec(line) : null;
  if (!m) throw new BrokerError(`pulsar-perf: no log line matching ${marker}`, out.split('\n').slice(-30).join('\n'));
  return Date.parse(`${m[1]}.${m[2]}Z`);
}

/**
 * pulsar-perf produce's own aggregate divides by its whole run, from the test thread's
 * start (before the producer exists) to its shutdown hook ~4 s after the last send: ~20 s
 * for `-time 15`. What it sent between "Created N producers" and "DONE" is the rate it
 * sustained; that (the higher) is what busbench is compared with.
 */
function producedPerSec(out: string): { rate: number; ownRate: number } {
  const own = aggregated(out, 'sent');
  const ms = stampOf(out, /DONE \(reached/) - stampOf(out, /Created \d+ producers/);
  return { rate: ms > 0 ? own.count / (ms / 1000) : own.rate, ownRate: own.rate };
}

/** One pulsar-perf round: produce and consume started together on a fresh topic. */
async function pulsarPerfRound(c: Ctx, window: number, label: string): Promise<Rates> {
  const topic = `persistent://public/default/perf-${label}`;
  const url = c.broker.urls()[0]!;
  const secs = String(Math.round(c.s.roundMs / 1000));
  // Earliest: the consumer JVM may subscribe after the producer's first sends.
  const consumer = startPulsarTool(c.install, 'pulsar-perf', ['consume', '-u', url, '-ss', 'perf', '-sp', 'Earliest', '-q', '1000', '-time', secs, topic], path.join(c.dir, `${label}-consume.log`));
  const producer = startPulsarTool(
    c.install,
    'pulsar-perf',
    ['produce', '-u', url, '-au', c.broker.adminUrl(), '-r', UNLIMITED_RATE, '-o', String(window), '-s', String(SIZE), '-b', '1', '-bm', '1000', '-bb', '131072', '-time', secs, topic],
    path.join(c.dir, `${label}-produce.log`),
  );
  const [p, k] = await Promise.all([finishPulsarTool(producer, c.s.roundMs + TOOL_SLACK_MS), finishPulsarTool(consumer, c.s.roundMs + TOOL_SLACK_MS)]);
  await c.admin.deleteTopic(topic, { force: true });
  const produced = producedPerSec(p);
  return { produce: produced.rate, consume: aggregated(k, 'received').rate, ownProduce: produced.ownRate };
}

/** One busbench round: the tps scenario through the CLI, against the same broker. */
async function busbenchRound(c: Ctx, window: number, label: string): Promise<Rates> {
  const bench = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bench.ts');
  const args = ['--import', 'tsx', bench, '--scenario', 'tps', '--systems', 'pulsar', '--brokers', 'external', '--url', `pulsar=${c.broker.urls()[0]!}`, '--set', `pulsar.adminUrl=${c.broker.adminUrl()}`];
  args.push('--duration', `${c.s.roundMs}ms`, '--size', String(SIZE), '--in-flight', String(window), '--producers', '1', '--consumers', '1', '--out', path.join(c.dir, label), '--json');
  const { stdout } = await run(process.execPath, args, { maxBuffer: 256 * 1024 * 1024, timeout: c.s.roundMs + 5 * 60_000 }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    // exit 1 (a delivery error or a warning) still prints the result: judged below
    if (err.stdout?.trim().startsWith('{')) return { stdout: err.stdout };
    throw new BrokerError(`busbench tps run failed: ${err.message.split('\n')[0]}`, err.stderr ?? '');
  });
  const r = (JSON.parse(stdout) as { systems: SystemResult[] }).systems[0]!;
  if (r.status !== 'ok') throw new BrokerError(`busbench tps run ${label}: status ${r.status}${r.error ? `: ${r.error}` : ''}`);
  const sent = r.intervals.filter((i) => i.phase === 'measure').reduce((n, i) => n + (i.sent ?? 0), 0);
  return { produce: sent / (r.throughput.measuredMs / 1000), consume: r.throughput.msgsPerSec };
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

function summary(window: number, got: Record<Side, Rates[]>): string[] {
  const lines: string[] = [];
  const ratios: number[] = [];
  for (const dir of ['produce', 'consume'] as const) {
    const b = spread(got.busbench.map((r) => r[dir]));
    const p = spread(got['pulsar-perf'].map((r) => r[dir]));
    const ratio = b.median / p.median;
    ratios.push(ratio);
    lines.push(`window ${window} ${dir}: busbench median ${fmt(b.median)} msg/s (${fmt(b.min)}–${fmt(b.max)}), pulsar-perf median ${fmt(p.median)} msg/s (${fmt(p.min)}–${fmt(p.max)}), busbench/pulsar-perf ${ratio.toFixed(2)}×`);
  }
  lines.push(`window ${window} target ≥ 1.0×: ${ratios.every((r) => r >= 1) ? 'met' : 'NOT met'}`);
  return lines;
}

async function measureWindow(c: Ctx, window: number): Promise<string[]> {
  const got: Record<Side, Rates[]> = { 'pulsar-perf': [], busbench: [] };
  for (let r = 0; r < c.s.rounds; r++) {
    // alternate which goes first, so neither always gets the warmer broker
    const order: Side[] = r % 2 === 0 ? ['pulsar-perf', 'busbench'] : ['busbench', 'pulsar-perf'];
    for (const side of order) {
      const label = `w${window}-r${r + 1}-${side}`;
      const rates = side === 'pulsar-perf' ? await pulsarPerfRound(c, window, label) : await busbenchRound(c, window, label);
      got[side].push(rates);
      const own = rates.ownProduce === undefined ? '' : `  (its own aggregate: produce ${fmt(rates.ownProduce)} msg/s)`;
      console.log(`  window ${window} round ${r + 1} ${side.padEnd(11)} produce ${fmt(rates.produce).padStart(9)} msg/s  consume ${fmt(rates.consume).padStart(9)} msg/s${own}`);
    }
  }
  return summary(window, got);
}

async function main(argv: string[]): Promise<number> {
  const s = settings(argv);
  if (!s) {
    process.stdout.write(['usage: npx tsx bench/pulsar-perf.ts [flags]', '', 'flags:', ...flagLines(FLAGS)].join('\n') + '\n');
    return 0;
  }
  const install = await ensurePulsar((l) => console.log(l));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-pulsar-perf-'));
  // busbench's native defaults (journal fsync, deduplication, a transaction coordinator,
  // which an external session waits for): both sides write to the same broker
  const broker = new NativePulsar({ dir: path.join(dir, 'broker'), log: (l) => console.log(l) });
  onInterrupt(() => broker.stop());
  await broker.start();
  const c: Ctx = { install, broker, admin: new PulsarAdmin(broker.adminUrl()), dir, s };
  try {
    console.log(`pulsar ${install.version} standalone (${install.source}), Java ${install.java.label}; 1 producer, 1 consumer, ${SIZE} B, ${s.roundMs / 1000} s rounds, ${s.rounds} per side per window`);
    const lines: string[] = [];
    for (const w of s.windows) lines.push(...(await measureWindow(c, w)));
    console.log(['', ...lines].join('\n'));
  } finally {
    await broker.stop();
    fs.rmSync(path.join(dir, 'broker'), { recursive: true, force: true });
    console.log(`pulsar-perf logs and busbench results: ${dir}`);
  }
  return 0;
}

runCli('pulsar-perf', main);
