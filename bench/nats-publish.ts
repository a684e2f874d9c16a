/**
 * npx tsx bench/nats-publish.ts [--msgs N] [--window W] [--repeat R] [--storage file|memory]
 *
 * The harness's JetStream publish path (the adapter's fast path: core publishes with
 * reply subjects on one wildcard inbox) against a native Go client publishing the way
 * `nats bench js pub --batch W` does (bench/nats-go-pub), on the same local nats-server,
 * with the same payload size, storage and in-flight window. Runs alternate between the
 * two so drift hits both alike; prints each run, the medians and their ratio.
 * Target: the harness reaches at least 0.9 of the native client.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { NativeNats } from '../src/brokers/native/nats.ts';
import { cacheRoot } from '../src/brokers/native/nats-install.ts';
import { killAllBrokersSync } from '../src/brokers/native/processes.ts';
import { encodeTemplate, stampBatch } from '../src/core/envelope.ts';
import { ProducerLedger } from '../src/checks/ledger.ts';
import { parseNatsOptions } from '../src/adapters/nats/options.ts';
import { FastPublisher } from '../src/adapters/nats/producer.ts';
import { connectNats } from '../src/adapters/nats/worker.ts';
import { spread } from '../src/scenarios/matrix.ts';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

const MSGS = Number(arg('msgs', '200000'));
const WINDOW = Number(arg('window', '1000'));
const REPEAT = Number(arg('repeat', '3'));
const STORAGE = arg('storage', 'file') === 'memory' ? 'memory' : 'file';
const SIZE = 512;

function buildGoPublisher(): string {
  const src = path.resolve(import.meta.dirname, 'nats-go-pub');
  const bin = path.join(cacheRoot(), 'nats-go-pub', 'nats-go-pub');
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  execFileSync('go', ['build', '-o', bin, '.'], { cwd: src, stdio: 'inherit' });
  return bin;
}

async function harnessRun(url: string, subject: string): Promise<number> {
  const nc = await connectNats([url], 'bench-harness');
  const ledger = new ProducerLedger(0);
  const opts = parseNatsOptions({ storage: STORAGE }, 'bench');
  const producer = await FastPublisher.create(nc, subject, opts, ledger, WINDOW, 0);
  const batch = 128;
  const bytes = new Uint8Array(SIZE * batch);
  const t = encodeTemplate(SIZE, 0);
  for (let i = 0; i < batch; i++) bytes.set(t, i * SIZE);
  const start = performance.now();
  for (let seq = 0; seq < MSGS; seq += batch) {
    const n = Math.min(batch, MSGS - seq);
    stampBatch(bytes, SIZE, n, seq, 1, Date.now());
    await producer.send({ bytes, size: SIZE, count: n, producerId: 0, firstSeq: seq });
  }
  await producer.flush(120_000);
  const seconds = (performance.now() - start) / 1000;
  await producer.close();
  if (ledger.ackedSet.size !== MSGS) throw new Error(`harness: only ${ledger.ackedSet.size} of ${MSGS} acked`);
  return MSGS / seconds;
}

function goRun(bin: string, url: string, subject: string): number {
  const out = execFileSync(bin, ['-url', url, '-subject', subject, '-msgs', String(MSGS), '-size', String(SIZE), '-window', String(WINDOW)], { encoding: 'utf8' });
  const r = JSON.parse(out) as { failed: number; msgsPerSec: number };
  if (r.failed > 0) throw new Error(`go publisher: ${r.failed} failed`);
  return r.msgsPerSec;
}

async function main(): Promise<void> {
  const bin = buildGoPublisher();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-natspub-'));
  const server = new NativeNats({ dir });
  await server.start();
  try {
    const url = server.urls()[0]!;
    const admin = await connectNats([url], 'bench-admin');
    const jsm = await jetstreamManager(admin);
    const fresh = async (name: string): Promise<string> => {
      await jsm.streams.delete(name).catch(() => false);
      await jsm.streams.add({ name, subjects: [`${name}.x`], storage: STORAGE === 'file' ? StorageType.File : StorageType.Memory });
      return `${name}.x`;
    };
    const harness: number[] = [];
    const native: number[] = [];
    console.log(`nats-server ${server.describe().version}, ${STORAGE} storage, ${SIZE} B, ${MSGS} msgs per run, window ${WINDOW}, ${REPEAT} rounds`);
    for (let r = 0; r < REPEAT; r++) {
      // alternate which goes first, so neither always gets the warmer machine
      const order = r % 2 === 0 ? ['harness', 'go'] : ['go', 'harness'];
      for (const who of order) {
        const subject = await fresh(`BENCH_${who}_${r}`);
        const v = who === 'harness' ? await harnessRun(url, subject) : goRun(bin, url, subject);
        (who === 'harness' ? harness : native).push(v);
        console.log(`  round ${r + 1} ${who.padEnd(7)} ${Math.round(v).toLocaleString('en-US')} msg/s`);
      }
    }
    await admin.close();
    const h = spread(harness);
    const g = spread(native);
    const ratio = h.median / g.median;
    console.log('');
    console.log(`harness publish path (TypeScript, fast path): median ${Math.round(h.median).toLocaleString('en-US')} msg/s (range ${Math.round(h.min)}–${Math.round(h.max)})`);
    console.log(`native Go client, PublishAsync window ${WINDOW}:  median ${Math.round(g.median).toLocaleString('en-US')} msg/s (range ${Math.round(g.min)}–${Math.round(g.max)})`);
    console.log(`ratio harness/native: ${ratio.toFixed(2)}  (target >= 0.90: ${ratio >= 0.9 ? 'met' : 'NOT met'})`);
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  killAllBrokersSync();
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
