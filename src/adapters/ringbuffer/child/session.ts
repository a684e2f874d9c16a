/**
 * The child-process mode: a ring server process owns the lanes, producers and
 * consumers reach it over TCP on 127.0.0.1, and the harness can kill -9 it and restart
 * it on the same data directory and port.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BrokerCounts, FaultInjector, OpenContext, PowerCut, PowerLossMode, SystemSession } from '../../../core/contract.ts';
import { LossyDataDir, powerLossLayer } from '../../../brokers/common/power-loss.ts';
import type { RingInit } from '../init.ts';
import type { RingOptions } from '../options.ts';
import { RingServerProcess } from './server-process.ts';
import { fetchLaneStats } from './stats.ts';

function faultName(options: RingOptions, ctx: OpenContext<RingOptions>): string {
  const journal = options.journal === 'fsync';
  if (ctx.fault?.type === 'power-loss') {
    return `power loss (${ctx.fault.mode}) of the ring-buffer server: kill -9, then every journal write no fsync covered is dropped, restart ${journal ? 'on what is left of the journal' : 'with empty memory'}`;
  }
  return `kill -9 of the ring-buffer server process, restart ${journal ? 'on the same journal' : 'with empty memory'} (its page cache survives)`;
}

/** The child mode's session: a ring server process busbench started, killed and restarted by its faults. */
export class ChildRingSession implements SystemSession<RingInit> {
  readonly workerInit: RingInit;
  readonly config: Record<string, unknown>;
  readonly faults: FaultInjector;
  /** where the server listens: a restart keeps the port */
  private readonly host: string;
  private readonly port: number;
  private restarts = 0;
  private closed = false;

  private constructor(
    private readonly ctx: OpenContext<RingOptions>,
    private readonly options: RingOptions,
    private readonly server: RingServerProcess,
    private readonly dataDir: string,
    stages: number,
    private readonly layer: LossyDataDir | undefined,
  ) {
    const { host, port } = server.address;
    this.host = host;
    this.port = port;
    const lanes = ctx.producers * stages;
    this.workerInit = { mode: 'child', host, port, producers: ctx.producers, consumers: ctx.consumers, stages, capacity: options.capacity };
    this.config = {
      process: 'child',
      journal: options.journal,
      dedup: options.dedup,
      capacity: options.capacity,
      lanes,
      ...(stages > 1 ? { stages } : {}),
      server: { address: `${host}:${port}`, pid: server.pid, ...(options.journal === 'fsync' ? { dataDir } : {}) },
      ...(layer ? { dataLayer: `power-loss layer over ${layer.backing}` } : {}),
    };
    this.faults = {
      fault: faultName(options, ctx),
      kill: () => server.kill(),
      ...(layer
        ? {
            powerLoss: async (mode: PowerLossMode): Promise<PowerCut> => {
              await server.kill();
              return layer.cut(mode);
            },
            settle: () => layer.settle(),
          }
        : {}),
      restart: async () => {
        await server.restart();
        this.restarts++;
      },
    };
  }

  static async open(ctx: OpenContext<RingOptions>, options: RingOptions, stages: number): Promise<ChildRingSession> {
    const dataDir = path.join(ctx.runDir, 'data', 'ringbuffer');
    const onLayer = powerLossLayer(ctx);
    const layer = onLayer ? new LossyDataDir(dataDir, onLayer, ctx.log) : undefined;
    // A run starts empty; only a restart within the run reads the journal back.
    for (const d of [dataDir, `${dataDir}.backing`]) fs.rmSync(d, { recursive: true, force: true });
    await layer?.mount();
    const server = new RingServerProcess(
      { dataDir, lanes: ctx.producers * stages, capacity: options.capacity, journal: options.journal, dedup: options.dedup === 'on' },
      path.join(ctx.runDir, 'logs', 'ringbuffer-server.log'),
    );
    ctx.log(`ringbuffer: starting the ring server (journal ${options.journal})`);
    try {
      await server.start();
    } catch (err) {
      await layer?.unmount();
      throw err;
    }
    return new ChildRingSession(ctx, options, server, dataDir, stages, layer);
  }

  processes(): Array<{ name: string; pid: number }> {
    return this.server.pid > 0 ? [{ name: 'ring server', pid: this.server.pid }] : [];
  }

  async brokerCounts(): Promise<BrokerCounts> {
    const stats = await fetchLaneStats(this.host, this.port).catch(async (err: unknown) => {
      const crash = await this.server.crashedWithin(1_000);
      throw crash ?? err;
    });
    // Stage 0 holds what the harness's producers sent, comparable with their ledger.
    const first = stats.slice(0, this.ctx.producers);
    const sum = (f: (s: (typeof stats)[number]) => number): number => first.reduce((n, s) => n + f(s), 0);
    // A memory-only server restarted empty: its count covers only the time since.
    const comparable = this.options.journal === 'fsync' || this.restarts === 0;
    return {
      source: `ring server lane counters (stage 0${comparable ? '' : '; restarted with empty memory, so no stored count'})`,
      ...(comparable ? { stored: sum((s) => s.appended) } : {}),
      delivered: sum((s) => s.committed),
      detail: { backlog: sum((s) => s.appended - s.committed) },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const crash = await this.server.crashedWithin(0);
    await this.server.stop();
    await this.layer?.unmount();
    // The journal is this run's stream: like a broker's stream, it goes with the run.
    for (const d of [this.dataDir, `${this.dataDir}.backing`]) fs.rmSync(d, { recursive: true, force: true });
    if (crash) throw crash;
  }
}
