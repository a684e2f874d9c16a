/**
 * Shards against one real nats-server: three shard processes (--processes 3) against one
 * process at the same total rate, the merged accounting equal to the single run's and the
 * merged histograms the bucket sums of the shards'; merge's refusals on real shard files;
 * and Ctrl-C of --processes leaving no child behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { NativeNats } from '../../src/brokers/nats/native.ts';
import { decodeHdr, encodeHdr, newHdr, summarize } from '../../src/core/histogram.ts';
import { hlogStartEpochMs, readHlog, type IntervalHistograms } from '../../src/checks/merge/intervals.ts';
import type { RunResult } from '../../src/core/result.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-shards-'));
  dirs.push(d);
  return d;
};

function cli(script: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const read = (f: string): RunResult => JSON.parse(fs.readFileSync(f, 'utf8')) as RunResult;
const jsonIn = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, f));
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** processes whose command line names `dir`: the shards and brokers a run under it started */
function processesUnder(dir: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)
    .filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

async function noneUnder(dir: string): Promise<number[]> {
  for (let i = 0; i < 150 && processesUnder(dir).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  return processesUnder(dir);
}

/** the shards' streams still on the broker: a shard that stopped cleanly deleted its own */
async function shardStreams(): Promise<string[]> {
  const nc = await connect({ servers: url });
  try {
    const names: string[] = [];
    for await (const n of (await jetstreamManager(nc)).streams.names()) if (n.includes('shard')) names.push(n);
    return names;
  } finally {
    await nc.close();
  }
}

let server: NativeNats;
let url = '';
// 3000 msg/s for 1 s warm-up + 2 s: 9000 intended, 3000 per shard, none split by rounding
const shape = ['--rate', '3000', '--producers', '3', '--consumers', '3', '--duration', '2s', '--warmup', '1s', '--drain-timeout', '5s'];
const load = (): string[] => ['--scenario', 'tps', '--systems', 'nats', '--brokers', 'external', '--url', `nats=${url}`, ...shape];
/** the same run with busbench's own broker (--brokers native, the default) */
const nativeLoad = (): string[] => ['--scenario', 'tps', '--systems', 'nats', ...shape];

beforeAll(async () => {
  server = new NativeNats({ dir: tmp() });
  await server.start();
  url = server.urls()[0]!;
});

afterAll(async () => {
  await server?.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('three shards against one nats-server', () => {
  let single: RunResult;
  let singleFile: string;
  let merged: RunResult;
  let mergedFile: string;
  let shardFiles: string[];

  beforeAll(() => {
    const a = tmp();
    const one = cli('bench/bench.ts', [...load(), '--out', a]);
    expect(one.code, one.stderr).toBe(0);
    singleFile = jsonIn(a)[0]!;
    single = read(singleFile);
    const b = tmp();
    const three = cli('bench/bench.ts', [...load(), '--processes', '3', '--out', b]);
    expect(three.code, three.stderr).toBe(0);
    mergedFile = jsonIn(b)[0]!;
    merged = read(mergedFile);
    const shardsDir = fs.readdirSync(b).find((f) => f.endsWith('.shards'))!;
    shardFiles = [0, 1, 2].flatMap((i) => jsonIn(path.join(b, shardsDir, `shard-${i}`)));
  }, 240_000);

  it('accounts for exactly what one process at the same total rate does', () => {
    const d = merged.systems[0]!.delivery;
    const s = single.systems[0]!.delivery;
    expect(s.sent).toBe(9000);
    for (const k of ['sent', 'acked', 'received', 'lost', 'ackedLost', 'duplicated', 'outOfOrder'] as const) expect(d[k], k).toBe(s[k]);
    expect(merged.systems[0]!.status).toBe('ok');
    expect(merged.merged?.shards).toBe(3);
    expect(merged.parameters.producers).toBe(3);
    expect(merged.systems[0]!.schedule?.intended).toBe(single.systems[0]!.schedule?.intended);
  });

  it('each shard ran its own producer, on its own stream, from the common start', () => {
    const shards = shardFiles.map(read).map((r) => r.systems[0]!);
    expect(shards.map((x) => x.shard?.producerIdFrom)).toEqual([0, 1, 2]);
    expect(shards.map((x) => x.ledger?.producers.map((p) => p.producerId))).toEqual([[0], [1], [2]]);
    expect(new Set(shards.map((x) => x.config.stream)).size).toBe(3);
    expect(new Set(shards.map((x) => x.shard?.startAt)).size).toBe(1);
    expect(shards.map((x) => x.delivery.sent)).toEqual([3000, 3000, 3000]);
  });

  it('the merged config names every shard’s stream and the shard files it came from', () => {
    const shards = shardFiles.map(read).map((r) => r.systems[0]!);
    const config = merged.systems[0]!.config;
    expect(config.stream).toEqual(shards.map((x) => x.config.stream));
    expect(config.subject).toEqual(shards.map((x) => x.config.subject));
    expect(config.mergedFrom).toEqual(shardFiles);
    expect(config.shards).toBe(3);
    // what every shard shared stays one value
    expect(config.serverVersion).toBe(shards[0]!.config.serverVersion);
  });

  it('the merged histograms are the bucket sums of the shards’', () => {
    const shards = shardFiles.map(read).map((r) => r.systems[0]!);
    for (const kind of ['e2e', 'publish', 'sendDelay'] as const) {
      const sum = newHdr();
      for (const x of shards) sum.add(decodeHdr(x.histograms[kind]!));
      expect(merged.systems[0]!.histograms[kind], kind).toBe(encodeHdr(sum));
      expect(merged.systems[0]!.latency[kind]!.count).toBe(shards.reduce((n, x) => n + x.latency[kind]!.count, 0));
    }
    expect(merged.systems[0]!.latency.e2e.count).toBe(6000);
  });

  it('the merged result has an interval log beside it: the shards’ interval histograms summed', () => {
    const logOf = (file: string): IntervalHistograms => {
      const r = read(file);
      expect(r.systems[0]!.intervalLog, file).toMatch(/\.hlog$/);
      return readHlog(fs.readFileSync(path.join(path.dirname(file), r.systems[0]!.intervalLog!), 'utf8'), r.parameters.warmupMs);
    };
    const total = (log: IntervalHistograms, tag: string): number => [...(log.get(tag)?.values() ?? [])].reduce((n, x) => n + x.h.totalCount, 0);
    const mine = logOf(mergedFile);
    const shards = shardFiles.map(logOf);
    // the kinds a run logs per interval (publish latency has no interval log)
    for (const tag of ['e2e', 'send-delay']) {
      expect(total(mine, tag), tag).toBeGreaterThan(0);
      expect(total(mine, tag), tag).toBe(shards.reduce((n, l) => n + total(l, tag), 0));
    }
    // the merged intervals' percentiles are the log's, as a single process's are its own log's
    const rows = merged.systems[0]!.intervals.filter((r) => r.received > 0);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.p99, `interval ${r.tMs}`).toBe(summarize(mine.get('e2e')!.get(r.tMs)!.h).p99);
    // and it is timed as the earliest shard's log is, from that shard's interval 0
    const text = (file: string): string => fs.readFileSync(path.join(path.dirname(file), read(file).systems[0]!.intervalLog!), 'utf8');
    const windows = shardFiles.map((f) => read(f).systems[0]!.shard!.windowStartEpochMs);
    const earliest = shardFiles[windows.indexOf(Math.min(...windows))]!;
    expect(hlogStartEpochMs(text(mergedFile))).toBe(hlogStartEpochMs(text(earliest)));
  });

  it('npm run merge on the shard files gives the same result; report, compare and gate read it', () => {
    const out = tmp();
    const r = cli('bench/merge.ts', [...shardFiles, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const again = read(jsonIn(out)[0]!);
    expect(again.systems[0]!.delivery).toEqual(merged.systems[0]!.delivery);
    expect(again.systems[0]!.histograms.e2e).toBe(merged.systems[0]!.histograms.e2e);
    expect(again.systems[0]!.intervals).toEqual(merged.systems[0]!.intervals);
    expect(fs.readFileSync(path.join(out, again.systems[0]!.intervalLog!), 'utf8')).toContain('Tag=e2e,');
    const file = jsonIn(out)[0]!;
    const rep = cli('bench/report.ts', [file, '--out', path.join(out, 'r.html')]);
    expect(rep.code, rep.stderr).toBe(0);
    const cmp = cli('bench/compare.ts', [singleFile, file]);
    expect(cmp.code, cmp.stderr).toBe(0);
    expect(cmp.stdout).toContain('nats');
    // merged results on both sides, equal: no timing enters the verdict (a single process's
    // p99 against the shards' differs by what the machine's load did to each)
    const gate = cli('bench/gate.ts', ['--baseline', mergedFile, '--current', file, '--metric', 'p99', '--max-regression', '10%']);
    expect(gate.code, gate.stdout + gate.stderr).toBe(0);
  });

  /** a copy of shard `i`'s result, changed by `edit`, in a folder of its own */
  function altered(i: number, edit: (r: RunResult) => void): string {
    const r = read(shardFiles[i]!);
    edit(r);
    const f = path.join(tmp(), path.basename(shardFiles[i]!));
    fs.writeFileSync(f, JSON.stringify(r));
    return f;
  }

  function refused(files: string[], message: RegExp): void {
    const out = tmp();
    const r = cli('bench/merge.ts', [...files, '--out', out]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(fs.readdirSync(out)).toEqual([]);
  }

  it('acks too late to be timed are counted per producer from the merged ledgers, not lost in the merge', () => {
    const late = (i: number, n: number): string => altered(i, (r) => (r.systems[0]!.ledger!.producers[0]!.publishMissed = n));
    const out = tmp();
    const r = cli('bench/merge.ts', [late(0, 5), shardFiles[1]!, late(2, 7), '--out', out]);
    const m = read(jsonIn(out)[0]!).systems[0]!;
    expect(m.error ?? '', r.stderr).toContain('12 acks came too late to be timed');
    // a finding beside the counts, as a single process has it: the delivery stays clean
    expect(m.status).toBe('ok');
  });

  it('adds the bytes each shard received when a payload distribution sized the messages', () => {
    // what a shard run with --payload writes: the bytes it received, not rate x nominal size
    const sized = (i: number, bytesPerSec: number): string =>
      altered(i, (r) => {
        const t = r.systems[0]!.throughput;
        t.messageBytes = t.bytesPerSec = bytesPerSec;
      });
    const out = tmp();
    const r = cli('bench/merge.ts', [sized(0, 100_000), sized(1, 250_000), sized(2, 40_000), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const t = read(jsonIn(out)[0]!).systems[0]!.throughput;
    expect(t.messageBytes).toBe(390_000);
    expect(t.bytesPerSec).toBe(390_000);
    // without it on every shard, the nominal size stands, as for a single process
    expect(merged.systems[0]!.throughput.messageBytes).toBeUndefined();
    expect(merged.systems[0]!.throughput.bytesPerSec).toBe(merged.systems[0]!.throughput.msgsPerSec * merged.parameters.messageSize);
  });

  it('refuses shards of different scenarios', () => {
    refused([shardFiles[0]!, altered(1, (r) => (r.scenario = 'latency')), shardFiles[2]!], /a different run from .*: scenario "latency" vs "tps"/);
    refused([shardFiles[0]!, altered(1, (r) => (r.parameters.messageSize = 1024)), shardFiles[2]!], /a different run from .*: parameters/);
  });

  it('refuses overlapping producer ids', () => {
    refused([shardFiles[0]!, shardFiles[1]!, shardFiles[0]!], /producer ids 0\.\.0 overlap those of .*shard0of3\.json \(producer 0\)/);
    const clash = altered(2, (r) => {
      const s = r.systems[0]!;
      s.shard!.producerIdFrom = 1;
      s.ledger!.producers[0]!.producerId = 1;
    });
    refused([shardFiles[0]!, shardFiles[1]!, clash], /producer ids 1\.\.1 overlap/);
  });

  it('refuses non-overlapping windows', () => {
    const later = altered(2, (r) => {
      const s = r.systems[0]!.shard!;
      s.windowStartEpochMs += 3_600_000;
      s.windowEndEpochMs += 3_600_000;
    });
    refused([shardFiles[0]!, shardFiles[1]!, later], /measured window .* does not overlap that of/);
  });

  it('refuses a missing shard and a result that is no shard’s', () => {
    refused([shardFiles[0]!, shardFiles[2]!], /shards 1\/3 missing/);
    refused([altered(0, (r) => delete r.systems[0]!.shard)], /not a shard's result/);
  });
});

describe('--processes with --brokers native', () => {
  it('starts one nats-server the shards share, names it in the merged result, and stops it after', () => {
    const out = tmp();
    const r = cli('bench/bench.ts', [...nativeLoad(), '--processes', '3', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/shared nats broker for the shards at nats:\/\/127\.0\.0\.1:\d+/);
    const m = read(jsonIn(out)[0]!);
    const s = m.systems[0]!;
    expect(s.status).toBe('ok');
    expect(m.merged?.shards).toBe(3);
    expect(s.delivery.sent).toBe(9000);
    expect(s.delivery.received).toBe(9000);
    expect(s.delivery.lost).toBe(0);
    expect(s.config.broker).toMatchObject({ system: 'nats', mode: 'native', sharedBy: 'the shards of --processes' });
    // every shard attached to that one broker
    const shardsDir = path.join(out, fs.readdirSync(out).find((f) => f.endsWith('.shards'))!);
    const urls = [0, 1, 2].map((i) => (read(jsonIn(path.join(shardsDir, `shard-${i}`))[0]!).systems[0]!.config.broker as { urls: string[] }).urls);
    expect(urls).toEqual([0, 1, 2].map(() => (s.config.broker as { urls: string[] }).urls));
    expect(processesUnder(out)).toEqual([]);
    expect(fs.existsSync(path.join(shardsDir, 'broker', 'data'))).toBe(false);
  }, 180_000);

  it('spreads topics within each shard, and the merged result adds each topic’s counts up', () => {
    const out = tmp();
    const args = ['--scenario', 'tps', '--systems', 'nats', '--rate', '3000', '--producers', '6', '--consumers', '6', '--topics', '3', '--duration', '2s', '--warmup', '1s', '--drain-timeout', '5s'];
    const r = cli('bench/bench.ts', [...args, '--processes', '2', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const s = read(jsonIn(out)[0]!).systems[0]!;
    expect(s.delivery).toMatchObject({ sent: 9000, received: 9000, lost: 0 });
    // each topic: a producer in each shard at 500 msg/s, for 3 s
    expect(s.topics?.counts.map((c) => [c.topic, c.sent, c.acked, c.received, c.ackedLost, c.brokerStored])).toEqual([0, 1, 2].map((t) => [t, 3000, 3000, 3000, 0, 3000]));
    expect(s.topics).toMatchObject({ consistent: true, agrees: true });
  });

  it('adds each partition’s counts up over the shards', () => {
    const out = tmp();
    const args = ['--scenario', 'tps', '--systems', 'nats', '--rate', '3000', '--producers', '2', '--consumers', '2', '--partitions', '2', '--duration', '2s', '--warmup', '1s', '--drain-timeout', '5s'];
    const r = cli('bench/bench.ts', [...args, '--processes', '2', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const s = read(jsonIn(out)[0]!).systems[0]!;
    const counts = s.partitions?.counts ?? [];
    expect(counts.map((c) => c.partition)).toEqual([0, 1]);
    for (const k of ['sent', 'acked', 'received', 'brokerStored'] as const) expect(counts.reduce((a, c) => a + (c[k] ?? 0), 0), k).toBe(9000);
    expect(s.partitions?.agrees).toBe(true);
  });

  it('refuses topics a shard cannot spread its share over, before any shard starts: one line, exit 2, nothing written', () => {
    const out = tmp();
    const r = cli('bench/bench.ts', [...nativeLoad(), '--topics', '3', '--processes', '3', '--out', out]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--processes 3: each of 3 shards spreads its own producers and consumers over all 3 topics, and a shard has 1 consumer for 3 topics/);
    expect(fs.readdirSync(out)).toEqual([]);
  });

  it('refuses a system that cannot share one native broker (pulsar), one line, exit 2, nothing written', () => {
    const out = tmp();
    const r = cli('bench/bench.ts', ['--scenario', 'tps', '--systems', 'pulsar', ...shape, '--processes', '3', '--out', out]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--processes 3 --brokers native: pulsar cannot share one native broker .*--brokers external/);
    expect(fs.readdirSync(out)).toEqual([]);
  });
});

describe.each([
  ['SIGINT', 130, 'external', 'Ctrl-C (to the terminal\'s process group) stops every shard process cleanly'],
  ['SIGKILL', null, 'external', 'a parent killed -9 leaves no orphan: each shard sees its parent gone and stops'],
  ['SIGINT', 130, 'native', 'Ctrl-C stops every shard process, then the shared nats-server'],
] as const)('--processes, %s of the parent (%s broker)', (signal, exitCode, brokers, what) => {
  it(`${what}; nothing is written, no stream is left on the broker`, async () => {
    const out = tmp();
    const args = brokers === 'native' ? nativeLoad() : load();
    // a group of its own, as a shell gives a foreground job: Ctrl-C goes to the whole group
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bench.ts', ...args, '--duration', '60s', '--processes', '3', '--out', out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const pids = (): number[] => [...stderr.matchAll(/shard \d\/3: pid (\d+)/g)].map((m) => Number(m[1]));
    for (let i = 0; i < 200 && pids().length < 3; i++) await new Promise((r) => setTimeout(r, 100));
    expect(pids(), stderr).toHaveLength(3);
    // past the common start: the shards are sending
    const startAt = Date.parse(/start at (\S+)/.exec(stderr)![1]!);
    await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now()) + 1500));
    expect(pids().filter(alive)).toHaveLength(3);
    // the shards and, with a native broker, the nats-server started for them (the parent aside)
    expect(processesUnder(out).filter((p) => p !== child.pid)).toHaveLength(brokers === 'native' ? 4 : 3);
    if (brokers === 'external') expect(await shardStreams()).toHaveLength(3);
    process.kill(signal === 'SIGINT' ? -child.pid! : child.pid!, signal);
    expect(await exited).toBe(exitCode);
    for (let i = 0; i < 150 && pids().some(alive); i++) await new Promise((r) => setTimeout(r, 100));
    expect(pids().filter(alive)).toEqual([]);
    expect(await noneUnder(out)).toEqual([]);
    expect(jsonIn(out)).toEqual([]);
    if (brokers === 'external') expect(await shardStreams()).toEqual([]);
  }, 120_000);
});
