/**
 * Opens the child-process mode: a ring server process owns the lanes, producers and
 * consumers reach it over TCP on 127.0.0.1, and the harness can kill -9 it and restart
 * it on the same data directory and port.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BrokerCounts, FaultInjector, OpenContext, SystemSession } from '../../../core/contract.ts';
import type { RingInit } from '../init.ts';
import type { RingOptions } from '../options.ts';
import { RingServerProcess } from './server-process.ts';
import { fetchLaneStats } from './stats.ts';

export async function openChild(ctx: OpenContext<RingOptions>, options: RingOptions, stages: number): Promise<SystemSession<RingInit>> {
  const dataDir = path.join(ctx.runDir, 'data', 'ringbuffer');
  // A run starts empty; only a restart within the run reads the journal back.
  fs.rmSync(dataDir, { recursive: true, force: true });
  const lanes = ctx.producers * stages;
  const server = new RingServerProcess(
    { dataDir, lanes, capacity: options.capacity, journal: options.journal, dedup: options.dedup === 'on' },
    path.join(ctx.runDir, 'logs', 'ringbuffer-server.log'),
  );
  ctx.log(`ringbuffer: starting the ring server (journal ${options.journal})`);
  await server.start();
  const { host, port } = server.address;
  let restarts = 0;
  const faults: FaultInjector = {
    fault:
      options.journal === 'fsync'
        ? 'kill -9 of the ring-buffer server process, restart on the same journal (its page cache survives)'
        : 'kill -9 of the ring-buffer server process, restart with empty memory (its page cache survives)',
    kill: () => server.kill(),
    restart: async () => {
      await server.restart();
      restarts++;
    },
  };
  let closed = false;
  return {
    workerInit: { mode: 'child', host, port, producers: ctx.producers, consumers: ctx.consumers, stages, capacity: options.capacity },
    config: {
      process: 'child',
      journal: options.journal,
      dedup: options.dedup,
      capacity: options.capacity,
      lanes,
      ...(stages > 1 ? { stages } : {}),
      server: { address: `${host}:${port}`, pid: server.pid, ...(options.journal === 'fsync' ? { dataDir } : {}) },
    },
    faults,
    processes: () => (server.pid > 0 ? [{ name: 'ring server', pid: server.pid }] : []),
    async brokerCounts(): Promise<BrokerCounts> {
      const stats = await fetchLaneStats(host, port).catch(async (err: unknown) => {
        const crash = await server.crashedWithin(1_000);
        throw crash ?? err;
      });
      // Stage 0 holds what the harness's producers sent, comparable with their ledger.
      const first = stats.slice(0, ctx.producers);
      const sum = (f: (s: (typeof stats)[number]) => number): number => first.reduce((n, s) => n + f(s), 0);
      // A memory-only server restarted empty: its count covers only the time since.
      const comparable = options.journal === 'fsync' || restarts === 0;
      return {
        source: `ring server lane counters (stage 0${comparable ? '' : '; restarted with empty memory, so no stored count'})`,
        ...(comparable ? { stored: sum((s) => s.appended) } : {}),
        delivered: sum((s) => s.committed),
        detail: { backlog: sum((s) => s.appended - s.committed) },
      };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const crash = await server.crashedWithin(0);
      await server.stop();
      // The journal is this run's stream: like a broker's stream, it goes with the run.
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (crash) throw crash;
    },
  };
}
