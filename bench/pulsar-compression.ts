/**
 * npx tsx bench/pulsar-compression.ts [--duration 10s] [--warmup 3s] [--rounds 2] [--backlog 200000]
 *                                      [--configs none,lz4,zlib,zstd,snappy,ack<other>]
 * (--configs: a subset; ack<other> is none with ackGroupingMs at the non-default setting,
 * ack0 or ack100. --backlog 0 skips part 2.)
 *
 * What compression and ack grouping cost on Pulsar, against one native standalone that
 * every run shares (--brokers external to the harness, busbench's own broker underneath):
 *  1. the tps scenario (closed loop, 1 producer, 1 consumer, the harness's 512 B order
 *     message) once per configuration and round, configurations rotated each round, after
 *     one uncounted run: compression none|lz4|zlib|zstd|snappy (ack grouping at its
 *     default), and none with ack grouping at the other setting (0 or 100 ms). Per run:
 *     consumed msg/s in the window, CPU seconds per million messages of busbench and the
 *     broker in the window (the harness's own meter, given the broker's pid), bytes per
 *     message the broker received (bytesInCounter / msgInCounter: metadata plus the
 *     payload as sent) and stored (storageSize / msgInCounter), and the ratio to none's.
 *  2. ack grouping on the consume path alone: a backlog of --backlog messages, produced
 *     first, consumed 128 at a time and acknowledged per batch, with ackGroupingMs 0 and
 *     100: msg/s, ACK commands per 1000 messages, CPU µs per message (busbench + broker).
 * Before either, how compressible the payload is: one 1000-message batch of stamped order
 * messages through each codec.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAdapter, systemNames } from '../src/adapters/registry.ts';
import type { SystemAdapter } from '../src/core/contract.ts';
import type { SystemResult } from '../src/core/result.ts';
import { encodeTemplate, stampBatch } from '../src/core/envelope.ts';
import { monoNs } from '../src/core/clock.ts';
import { processCpuSec } from '../src/core/resources.ts';
import { pulsarDeployment } from '../src/brokers/pulsar/deployment.ts';
import type { NativePulsar } from '../src/brokers/pulsar/native.ts';
import { onInterrupt } from '../src/brokers/common/signals.ts';
import { applyFlags, parseFlags } from '../src/scenario/flags.ts';
import { loadScenario } from '../src/scenario/scenario.ts';
import { interleave } from '../src/scenario/matrix.ts';
import { planCells, runScenario } from '../src/harness/run-scenario.ts';
import { formatTable } from '../src/report/render/table.ts';
import { PulsarClient } from '../src/adapters/pulsar/wire/index.ts';
import { codecNamed, COMPRESSIONS } from '../src/adapters/pulsar/wire/compression.ts';
import { DEFAULT_OPTIONS } from '../src/adapters/pulsar/options.ts';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

const DURATION = arg('duration', '10s');
const WARMUP = arg('warmup', '3s');
const ROUNDS = Number(arg('rounds', '2'));
const BACKLOG = Number(arg('backlog', '200000'));
const SIZE = 512;

interface Config {
  key: string;
  label: string;
  set: Record<string, string | number>;
}

/** Compression at the ackGroupingMs default, and none with ack grouping at the other setting. */
function allConfigs(): Config[] {
  const other = DEFAULT_OPTIONS.ackGroupingMs === 0 ? 100 : 0;
  return [
    ...COMPRESSIONS.map((c) => ({ key: c, label: c, set: { compression: c } })),
    { key: `ack${other}`, label: `none, ackGroupingMs ${other}`, set: { compression: 'none', ackGroupingMs: other } },
  ];
}

const CONFIGS = ((): Config[] => {
  const all = allConfigs();
  const wanted = arg('configs', all.map((c) => c.key).join(',')).split(',');
  const bad = wanted.find((k) => !all.some((c) => c.key === k));
  if (bad) throw new Error(`--configs: "${bad}" is none of ${all.map((c) => c.key).join(', ')}`);
  return all.filter((c) => wanted.includes(c.key));
})();

interface TpsRun {
  msgsPerSec: number;
  cpuSecPerMillion: number | null;
  bytesInPerMsg: number;
  storedPerMsg: number;
  status: string;
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** One 1000-message batch of stamped order messages, as the producer would build its payload. */
function sampleBatch(n = 1000): Uint8Array {
  const buf = new Uint8Array(SIZE * n);
  const template = encodeTemplate(SIZE, 0);
  for (let i = 0; i < n; i++) buf.set(template, i * SIZE);
  stampBatch(buf, SIZE, n, 0, monoNs(), Date.now());
  return buf;
}

async function compressibility(): Promise<string[]> {
  const batch = sampleBatch();
  const lines: string[] = [];
  for (const name of COMPRESSIONS) {
    const codec = await codecNamed(name);
    if (!codec) continue;
    codec.compress(batch); // loads the library
    const t = performance.now();
    const z = codec.compress(batch);
    const ms = performance.now() - t;
    lines.push(`  ${name}: ${batch.length} -> ${z.length} bytes (${((z.length / batch.length) * 100).toFixed(1)}%), ${ms.toFixed(2)} ms`);
  }
  return lines;
}

/** The adapter with the native broker's pid given to each session, so the harness meters its CPU. */
function metered(adapter: SystemAdapter, broker: NativePulsar): SystemAdapter {
  return {
    ...adapter,
    open: async (ctx: Parameters<SystemAdapter['open']>[0]): ReturnType<SystemAdapter['open']> => {
      const session = await adapter.open(ctx);
      Object.defineProperty(session, 'processes', { value: () => broker.processes(), configurable: true });
      return session;
    },
  };
}

async function tpsRun(cfg: Config, adapter: SystemAdapter, known: string[], urls: { service: string; admin: string }, out: string): Promise<TpsRun> {
  const sets = Object.entries({ ...cfg.set, adminUrl: urls.admin }).flatMap(([k, v]) => ['--set', `pulsar.${k}=${v}`]);
  const flags = parseFlags(['--systems', 'pulsar', '--brokers', 'external', '--url', `pulsar=${urls.service}`, '--duration', DURATION, '--warmup', WARMUP, '--out', out, ...sets], known);
  const scenario = applyFlags(loadScenario('tps', known), flags);
  const cells = new Map([['pulsar', planCells('pulsar', adapter, scenario, 'external')]]);
  const result = await runScenario(
    { scenario, adapters: new Map([['pulsar', adapter]]), cells, brokers: 'external', externalUrls: flags.urls, runBase: path.join(out, `run-${Date.now()}`) },
    { log: () => undefined },
  );
  const s = result.systems[0] as SystemResult;
  const detail = (s.broker?.detail ?? {}) as Record<string, number>;
  const msgIn = detail.msgInCounter ?? 0;
  return {
    msgsPerSec: s.throughput.msgsPerSec,
    cpuSecPerMillion: s.resources?.cpuSecPerMillion ?? null,
    bytesInPerMsg: msgIn > 0 ? (detail.bytesInCounter ?? 0) / msgIn : NaN,
    storedPerMsg: msgIn > 0 ? (detail.storageSize ?? 0) / msgIn : NaN,
    status: s.status,
  };
}

interface BacklogRun {
  msgsPerSec: number;
  acksPer1000: number;
  cpuUsPerMsg: number;
}

/** Fills a topic with `n` stamped messages, then consumes it 128 at a time, acking each batch. */
async function backlogRun(url: string, brokerPid: number, groupMs: number, n: number): Promise<BacklogRun> {
  const producerClient = new PulsarClient({ serviceUrl: url });
  const consumerClient = new PulsarClient({ serviceUrl: url });
  try {
    const topic = `persistent://public/default/ack-grouping-${groupMs}-${Date.now()}`;
    const consumer = await consumerClient.subscribe({ topic, subscription: 's', initialPosition: 'earliest', ackGroupingMs: groupMs, receiverQueueSize: 1000 });
    const p = await producerClient.createProducer({ topic, maxPendingMessages: 10_000 });
    const batch = sampleBatch(128);
    for (let seq = 0; seq < n; ) {
      const k = Math.min(128, n - seq, p.room);
      if (k > 0) {
        p.sendMessages(batch, SIZE, k, seq);
        seq += k;
        continue;
      }
      const wait = p.waitForRoom();
      if (!wait) throw new Error('backlog: the producer closed');
      await wait;
    }
    if (!(await p.flush(120_000))) throw new Error('backlog: not every message was stored');
    const cpu0 = process.cpuUsage();
    const broker0 = processCpuSec(brokerPid) ?? NaN;
    const t0 = performance.now();
    let got = 0;
    while (got < n) {
      let b = consumer.receiveBatch(128, 5_000);
      if (b instanceof Promise) b = await b;
      if (b.count === 0) throw new Error(`backlog: ${got} of ${n} consumed, then nothing for 5 s`);
      got += b.count;
      consumer.ackBatch(b);
    }
    const seconds = (performance.now() - t0) / 1000;
    await consumer.close();
    const cpu = process.cpuUsage(cpu0);
    const brokerSec = (processCpuSec(brokerPid) ?? NaN) - broker0;
    return { msgsPerSec: n / seconds, acksPer1000: (consumer.stats.ackCommands / n) * 1000, cpuUsPerMsg: (((cpu.user + cpu.system) / 1e6 + brokerSec) / n) * 1e6 };
  } finally {
    await Promise.allSettled([producerClient.close(), consumerClient.close()]);
  }
}

function tpsTable(runs: Map<string, TpsRun[]>): string {
  const none = median((runs.get('none') ?? []).map((r) => r.bytesInPerMsg));
  const rows = CONFIGS.map((c) => {
    const rs = runs.get(c.label) ?? [];
    const wire = median(rs.map((r) => r.bytesInPerMsg));
    const cpu = rs.map((r) => r.cpuSecPerMillion).filter((x): x is number => x !== null);
    return [
      c.label,
      `${(median(rs.map((r) => r.msgsPerSec)) / 1000).toFixed(1)}k`,
      rs.map((r) => `${(r.msgsPerSec / 1000).toFixed(0)}k`).join(' '),
      cpu.length ? median(cpu).toFixed(2) : '–',
      wire.toFixed(0),
      Number.isNaN(none) ? '–' : (wire / none).toFixed(3),
      median(rs.map((r) => r.storedPerMsg)).toFixed(0),
      rs.map((r) => r.status).join(' '),
    ];
  });
  return formatTable(['config', 'msg/s (median)', 'runs', 'CPU s/M msg', 'wire B/msg', 'vs none', 'stored B/msg', 'status'], rows, { align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'] });
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-pulsar-compression-'));
  const broker = pulsarDeployment('native', { dir }) as NativePulsar;
  const stopOnInterrupt = onInterrupt(() => broker.stop());
  try {
    process.stdout.write(`payload: the harness's ${SIZE} B order message (JSON; its fields vary per message, about 300 B of it is padding); a 1000-message batch compresses to:\n${(await compressibility()).join('\n')}\n\n`);
    await broker.start();
    const urls = { service: broker.urls()[0]!, admin: broker.adminUrl() };
    const known = await systemNames();
    const adapter = metered(await loadAdapter('pulsar'), broker);
    const runs = new Map<string, TpsRun[]>();
    // One uncounted run first: a fresh broker's JIT would otherwise make round 1's first configuration look slow.
    const warm = await tpsRun(CONFIGS[0]!, adapter, known, urls, dir);
    process.stderr.write(`warm-up run (not counted) ${CONFIGS[0]!.label}: ${(warm.msgsPerSec / 1000).toFixed(1)}k msg/s\n`);
    for (let round = 0; round < ROUNDS; round++) {
      for (const cfg of interleave(CONFIGS, round)) {
        const r = await tpsRun(cfg, adapter, known, urls, dir);
        process.stderr.write(`round ${round + 1} ${cfg.label}: ${(r.msgsPerSec / 1000).toFixed(1)}k msg/s, ${r.cpuSecPerMillion ?? '–'} CPU s/M, ${r.bytesInPerMsg.toFixed(0)} B/msg in, ${r.status}\n`);
        runs.set(cfg.label, [...(runs.get(cfg.label) ?? []), r]);
      }
    }
    process.stdout.write(`tps, 1 producer, 1 consumer, ${SIZE} B, ${DURATION} after ${WARMUP} warm-up, ${ROUNDS} round(s), one native standalone (journal fsync on):\n${tpsTable(runs)}\n\n`);

    if (BACKLOG <= 0) return;
    const pid = broker.processes()[0]?.pid;
    if (pid === undefined) throw new Error('the broker is not running');
    const backlog = new Map<number, BacklogRun[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const ms of round % 2 ? [100, 0] : [0, 100]) backlog.set(ms, [...(backlog.get(ms) ?? []), await backlogRun(urls.service, pid, ms, BACKLOG)]);
    }
    const rows = [...backlog.entries()].map(([ms, rs]) => [
      String(ms),
      `${(median(rs.map((r) => r.msgsPerSec)) / 1000).toFixed(1)}k`,
      rs.map((r) => `${(r.msgsPerSec / 1000).toFixed(0)}k`).join(' '),
      median(rs.map((r) => r.acksPer1000)).toFixed(2),
      median(rs.map((r) => r.cpuUsPerMsg)).toFixed(2),
    ]);
    process.stdout.write(
      `consume a backlog of ${BACKLOG} messages, 128 per receive, acked per receive (${ROUNDS} round(s)):\n${formatTable(['ackGroupingMs', 'msg/s (median)', 'runs', 'ACKs / 1000 msg', 'CPU µs/msg'], rows, { align: ['r', 'r', 'r', 'r', 'r'] })}\n`,
    );
  } finally {
    stopOnInterrupt();
    await broker.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`pulsar-compression: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
