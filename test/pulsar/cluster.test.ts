/**
 * The native Pulsar cluster (3 ZooKeeper, 3 bookies, 3 brokers: nine JVMs) for real: a
 * start whose readiness includes a write and read through every broker, a write and read
 * through the several-host service URL, and a stop that leaves no JVM and no port behind;
 * then, through the runner, a kill -9 of one bookie mid-run with nothing acked lost
 * (ensemble 3, write quorum 3, ack quorum 2: every acked entry is on two other bookies).
 * Nine cold JVMs on two busy cores take about two minutes to be ready (README, Pulsar):
 * the timeouts are generous, and bounded.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/pulsar/index.ts';
import { writeAndRead } from '../../src/adapters/pulsar/probe.ts';
import { NativePulsarCluster } from '../../src/brokers/pulsar/cluster.ts';
import { canConnect } from '../../src/brokers/common/ports.ts';
import { runOnce } from '../../src/harness/runner.ts';
import { removeRunDirs, runSpec } from '../fixtures/run-spec.ts';

afterAll(removeRunDirs);

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('native pulsar cluster', () => {
  it('starts nine JVMs, writes and reads through every broker, and stops leaving no process or port', { timeout: 600_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-pulsar-cluster-'));
    const lines: string[] = [];
    const cluster = new NativePulsarCluster({ dir, transactions: false, probe: writeAndRead, log: (l) => lines.push(l) });
    try {
      await cluster.start();
      const procs = cluster.processes();
      expect(procs.map((p) => p.name)).toEqual(cluster.nodeNames().map((n) => `pulsar ${n}`));
      expect(cluster.startupMs).toHaveLength(1);
      expect(lines.some((l) => /install ready in/.test(l)) && lines.some((l) => /all 9 nodes ready in \d+\.\d s \(zk .*, metadata .*, bookie .*, broker .*, probe .*\)/.test(l))).toBe(true);
      await writeAndRead(cluster.serviceUrl(), 'persistent://public/default/busbench-test');
      const ports = cluster.urls().map((u) => Number(u.split(':').pop()));
      await cluster.stop();
      for (const p of procs) expect(alive(p.pid), p.name).toBe(false);
      for (const port of ports) expect(await canConnect(port)).toBe(false);
      process.stdout.write(`pulsar cluster: install ${cluster.installMs} ms, ready in ${cluster.startupMs[0]} ms (${JSON.stringify(cluster.steps)})\n`);
    } finally {
      await cluster.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loses nothing acked when a bookie is killed mid-run and restarted', { timeout: 600_000 }, async () => {
    const spec = runSpec(adapter, { topology: 'cluster' }, {
      ratePerSec: 1000,
      load: { durationMs: 12_000, warmupMs: 1000, drainTimeoutMs: 90_000 },
      fault: { atMs: 3000, downtimeMs: 1000, kind: { type: 'kill', target: { node: 'bookie-1' } } },
    });
    const r = await runOnce(spec);
    const d = r.durability!;
    expect(d, r.error).toMatchObject({ injected: true, faultType: 'kill', ackedLost: 0, promiseKept: true });
    expect(d.fault).toMatch(/^kill -9 of bookie-1 while the other 8 JVMs run on/);
    expect(r.delivery.lost).toBe(0);
    expect(r.broker?.stored).toBeGreaterThanOrEqual(r.delivery.acked);
    expect(r.status, r.error).toBe('ok');
  });
});
