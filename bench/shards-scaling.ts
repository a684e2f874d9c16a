/**
 * npx tsx bench/shards-scaling.ts [--rounds N] [--duration 10s]
 *
 * 1 vs 2 vs 3 local shards (bench --processes N) against one nats-server this script
 * starts: the tps scenario (closed loop) with 6 producers and 6 consumers in all, so each
 * shard count divides them. Prints, per shard count, the merged msg/s and e2e p99 (median
 * over rounds), the CPU the load generator (all shards) and the broker used per second of
 * the measured window, the spread (min–max over rounds), and whether every merged run was
 * clean: exit 0, status ok, and no delivery finding in the merged result (nothing lost,
 * unacknowledged, duplicated, out of order or unanswered, every message sent received).
 * Run it under the heavy lock.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NativeNats } from '../src/brokers/nats/native.ts';
import { processCpuSec, processTree } from '../src/core/resources.ts';
import type { RunResult } from '../src/core/result.ts';

const args = process.argv.slice(2);
const flag = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const rounds = Number(flag('rounds', '1'));
const duration = flag('duration', '10s');
const SHARDS = [1, 2, 3];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const brokerCpu = (server: NativeNats): number => server.pids().flatMap((p) => processTree(p)).reduce((n, p) => n + (processCpuSec(p) ?? 0), 0);

/**
 * The merged result's delivery findings, read from its counts and its error, not from the
 * bench call's exit code: a merged run is clean only when the merged ledgers found nothing.
 */
function findingsOf(s: RunResult['systems'][number], exitCode: number | null): string[] {
  const d = s.delivery;
  const out: string[] = [];
  if (exitCode !== 0) out.push(`exit ${exitCode}`);
  if (s.status !== 'ok') out.push(`status ${s.status}`);
  for (const k of ['lost', 'ackedLost', 'duplicated', 'outOfOrder', 'unknown', 'failed', 'unackedDelivered'] as const) {
    if (d[k] > 0) out.push(`${k} ${d[k]}`);
  }
  if (d.received !== d.sent) out.push(`received ${d.received} of ${d.sent} sent`);
  if (s.error) out.push(s.error);
  return out;
}

interface Row {
  shards: number;
  msgsPerSec: number;
  p99Us: number;
  loadCpuPerSec: number;
  brokerCpuPerSec: number;
  /** the merged run's delivery findings; none when it is clean */
  findings: string[];
}

/**
 * The common start, well ahead: on a 2-core machine busy with other jobs a child took 12 s
 * to open its workers (16:32 UTC, 2026-12-02), past --processes' own lead of 4 s + 1.5 s × N,
 * and a shard whose start has passed fails. The wait is before the warm-up: it costs time,
 * not figures.
 */
const leadMs = (shards: number): number => 20_000 + 5_000 * shards;

function runOnce(server: NativeNats, shards: number, out: string): Row {
  const url = server.urls()[0]!;
  const t0 = Date.now();
  const argv = ['--import', 'tsx', 'bench/bench.ts', '--scenario', 'tps', '--systems', 'nats', '--brokers', 'external', '--url', `nats=${url}`, '--producers', '6', '--consumers', '6', '--duration', duration, '--warmup', '3s', '--processes', String(shards), '--start-at', new Date(t0 + leadMs(shards)).toISOString(), '--out', out];
  const cpu0 = brokerCpu(server);
  const r = spawnSync(process.execPath, argv, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  // from the common start: the lead before it is the broker idling
  const wallSec = (Date.now() - t0 - leadMs(shards)) / 1000;
  const file = /merged \d+ shards: (.+)$/m.exec(r.stdout)?.[1]?.trim();
  if (!file) throw new Error(`--processes ${shards}: no merged result (exit ${r.status})\n${r.stderr}`);
  const res = JSON.parse(fs.readFileSync(file, 'utf8')) as RunResult;
  const s = res.systems[0]!;
  const windowSec = s.throughput.measuredMs / 1000;
  return {
    shards,
    msgsPerSec: s.throughput.msgsPerSec,
    p99Us: s.latency.e2e.p99,
    loadCpuPerSec: (s.resources?.window?.cpuSec ?? NaN) / windowSec,
    // the broker's CPU over the bench call, per second from the common start to its end (warm-up and drain included)
    brokerCpuPerSec: (brokerCpu(server) - cpu0) / wallSec,
    findings: findingsOf(s, r.status),
  };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-scaling-'));
  const server = new NativeNats({ dir });
  await server.start();
  const rows: Row[][] = SHARDS.map(() => []);
  try {
    for (let round = 0; round < rounds; round++) {
      // interleaved, so drift in the machine's other load spreads over every shard count
      SHARDS.forEach((n, i) => {
        const row = runOnce(server, n, path.join(dir, `out-${n}-${round}`));
        rows[i]!.push(row);
        process.stderr.write(`round ${round + 1}: ${n} shard(s): ${Math.round(row.msgsPerSec)} msg/s, p99 ${(row.p99Us / 1000).toFixed(1)} ms, ${row.findings.length === 0 ? 'clean' : `NOT clean (${row.findings.join('; ')})`}\n`);
      });
    }
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${os.cpus().length} cores, ${os.cpus()[0]?.model ?? '?'}; tps, 6 producers + 6 consumers in all, ${duration} window, ${rounds} round(s), median\n\n`);
  process.stdout.write('| shards (--processes) | msg/s (median) | msg/s spread | e2e p99 (median) | p99 spread | busbench CPU s/s (window) | nats-server CPU s/s | clean |\n|---|---|---|---|---|---|---|---|\n');
  const msgs = (n: number): string => Math.round(n).toLocaleString('en-US');
  const ms = (us: number): string => (us / 1000).toFixed(1);
  for (const rs of rows) {
    const m = (f: (r: Row) => number): number => median(rs.map(f));
    const spread = (f: (r: Row) => number, fmt: (n: number) => string): string => `${fmt(Math.min(...rs.map(f)))}–${fmt(Math.max(...rs.map(f)))}`;
    const clean = rs.every((r) => r.findings.length === 0) ? 'yes' : 'NO';
    process.stdout.write(
      `| ${rs[0]!.shards} | ${msgs(m((r) => r.msgsPerSec))} | ${spread((r) => r.msgsPerSec, msgs)} | ${ms(m((r) => r.p99Us))} ms | ${spread((r) => r.p99Us, ms)} ms | ${m((r) => r.loadCpuPerSec).toFixed(2)} | ${m((r) => r.brokerCpuPerSec).toFixed(2)} | ${clean} |\n`,
    );
  }
}

await main();
