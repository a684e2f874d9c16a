/**
 * npx tsx bench/nats-publish.ts [--msgs N] [--window W] [--rounds R] [--storage file|memory] [--publish fast|js]
 *
 * The harness's JetStream publish path against `nats bench js pub async` (natscli, Go),
 * on the same local nats-server, same payload size (512 B), storage and in-flight window:
 *   harness: the nats adapter's worker-side producer (default: the fast path), fed 128-
 *            message batches of stamped envelopes as the producer loop does, at most W
 *            messages unacknowledged (a sliding window);
 *   natscli: `--batch W`: W asynchronous publishes, then it waits for all W acks (a
 *            stop-and-wait window: never more than W unacknowledged either).
 * Each side publishes to a fresh stream that the adapter itself created (external mode
 * against our server), so stream settings are identical. Rounds alternate which side goes
 * first, after one uncounted harness warm-up run; prints every run, the medians and their
 * ratio. Target: harness >= 0.9 x natscli.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adapter } from '../src/adapters/nats/index.ts';
import { workerSide } from '../src/adapters/nats/worker.ts';
import type { NatsWorkerInit } from '../src/adapters/nats/index.ts';
import type { SystemSession } from '../src/core/contract.ts';
import { encodeTemplate, stampBatch } from '../src/core/envelope.ts';
import { monoNs } from '../src/core/clock.ts';
import { ProducerLedger } from '../src/checks/ledger.ts';
import { NativeNats } from '../src/brokers/nats/native.ts';
import { ensureNatsCli } from '../src/brokers/nats/install.ts';
import { killAllBrokersSync } from '../src/brokers/common/processes.ts';
import { onInterrupt } from '../src/brokers/common/signals.ts';
import { spread } from '../src/scenario/matrix.ts';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

const MSGS = Number(arg('msgs', '100000'));
const WINDOW = Number(arg('window', '1000'));
const ROUNDS = Number(arg('rounds', '3'));
const STORAGE = arg('storage', 'file');
const PUBLISH = arg('publish', 'fast');
const SIZE = 512;
const BATCH = 128;
const control = { stopping: () => false };

async function openStream(url: string, dir: string, runId: string): Promise<SystemSession<NatsWorkerInit>> {
  const options = adapter.parseOptions({ storage: STORAGE, publish: PUBLISH }, 'bench/nats-publish.ts');
  return adapter.open({ runId, runDir: dir, producers: 1, consumers: 1, messageSize: SIZE, maxInFlight: WINDOW, brokers: 'external', externalUrls: { nats: url }, options, log: () => undefined });
}

async function harnessRun(session: SystemSession<NatsWorkerInit>, msgs = MSGS): Promise<number> {
  const ledger = new ProducerLedger(0);
  const producer = await workerSide.createProducer(session.workerInit, { producerId: 0, messageSize: SIZE, maxInFlight: WINDOW, control }, ledger);
  const staging = new Uint8Array(SIZE * BATCH);
  const template = encodeTemplate(SIZE, 0);
  for (let i = 0; i < BATCH; i++) staging.set(template, i * SIZE);
  const start = performance.now();
  for (let seq = 0; seq < msgs; seq += BATCH) {
    const n = Math.min(BATCH, msgs - seq);
    stampBatch(staging, SIZE, n, seq, monoNs(), Date.now());
    ledger.sent = seq + n;
    await producer.send({ bytes: n === BATCH ? staging : staging.subarray(0, n * SIZE), size: SIZE, count: n, producerId: 0, firstSeq: seq });
  }
  await producer.flush(120_000);
  const seconds = (performance.now() - start) / 1000;
  await producer.close();
  if (ledger.ackedSet.size !== msgs) throw new Error(`harness: ${ledger.ackedSet.size} of ${msgs} acked (failed ${ledger.failedSet.size}, unknown ${ledger.unknownSet.size})`);
  return msgs / seconds;
}

function natscliRun(cli: string, url: string, session: SystemSession<NatsWorkerInit>): number {
  const init = session.workerInit as unknown as NatsWorkerInit;
  const csv = path.join(os.tmpdir(), `busbench-natscli-${process.pid}.csv`);
  execFileSync(cli, ['-s', url, 'bench', 'js', 'pub', 'async', init.stages[0]!.subject, '--stream', init.stages[0]!.stream, '--size', String(SIZE), '--msgs', String(MSGS), '--batch', String(WINDOW), '--no-progress', '--csv', csv], { stdio: ['ignore', 'ignore', 'pipe'] });
  // #RunID,ClientID,MsgCount,MsgBytes,MsgsPerSec,...
  const row = fs.readFileSync(csv, 'utf8').trim().split('\n').find((l) => !l.startsWith('#'));
  fs.rmSync(csv, { force: true });
  const rate = Number(row?.split(',')[4]);
  if (!Number.isFinite(rate) || rate <= 0) throw new Error(`natscli: no rate in its CSV: ${row}`);
  return rate;
}

async function main(): Promise<void> {
  const cli = await ensureNatsCli((l) => console.log(l));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-natspub-'));
  const server = new NativeNats({ dir, log: (l) => console.log(l) });
  onInterrupt(() => server.stop());
  await server.start();
  try {
    const url = server.urls()[0]!;
    const d = server.describe();
    console.log(`nats-server ${d.version} (${d.source}); natscli ${cli.version} (${cli.source})`);
    console.log(`${STORAGE} storage, ${SIZE} B, ${MSGS.toLocaleString('en-US')} msgs per run, window ${WINDOW}, harness publish=${PUBLISH}, ${ROUNDS} rounds`);
    // a scenario measures after its warm-up: so does this (JIT, first stream, connections)
    const warm = await openStream(url, dir, 'warmup');
    await harnessRun(warm, Math.min(MSGS, 30_000)).finally(() => warm.close());
    const results = { harness: [] as number[], natscli: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      // alternate which goes first, so neither always gets the warmer machine
      const order = r % 2 === 0 ? (['harness', 'natscli'] as const) : (['natscli', 'harness'] as const);
      for (const who of order) {
        const session = await openStream(url, dir, `${who}_${r}`);
        try {
          const v = who === 'harness' ? await harnessRun(session) : natscliRun(cli.path, url, session);
          results[who].push(v);
          console.log(`  round ${r + 1} ${who.padEnd(7)} ${Math.round(v).toLocaleString('en-US')} msg/s`);
        } finally {
          await session.close();
        }
      }
    }
    const h = spread(results.harness);
    const n = spread(results.natscli);
    const ratio = h.median / n.median;
    const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
    console.log('');
    console.log(`harness (TypeScript, publish=${PUBLISH}): median ${fmt(h.median)} msg/s (range ${fmt(h.min)}-${fmt(h.max)})`);
    console.log(`nats bench js pub async --batch ${WINDOW}: median ${fmt(n.median)} msg/s (range ${fmt(n.min)}-${fmt(n.max)})`);
    console.log(`ratio harness/natscli: ${ratio.toFixed(2)} (target >= 0.90: ${ratio >= 0.9 ? 'met' : 'NOT met'})`);
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
