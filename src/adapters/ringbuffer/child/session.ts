/**
 * The child-process mode: a ring server process owns the lanes, producers and
 * consumers reach it over TCP on 127.0.0.1, and the harness can kill -9 it and restart
 * it on the same data directory and port.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BrokerCounts, FaultInjector, OpenContext, PowerCut, PowerLossMode, SystemSession } from '../../../core/contract.ts';
import { LossyDataDir, powerLossLayer } from '../../../brokers/common/power-loss.ts';
import { routedShape, shapeConfig, type RingInit } from '../init.ts';
import { laneCount, lanesPerStage, type LaneShape } from '../lanes.ts';
import { topicOfProducer } from '../../../core/topics.ts';
import type { RingOptions } from '../options.ts';
import { RingServerProcess } from './server-process.ts';
import { ReplicaPair } from './replica-pair.ts';
import { fetchLaneStats } from './stats.ts';

/** What the session drives: one ring server, or the two of `replicas: 2`. */
type RingServers = Pick<RingServerProcess & ReplicaPair, 'address' | 'pids' | 'kill' | 'killAll' | 'restart' | 'stop' | 'crashedWithin'>;

function replicaFaultName(options: RingOptions, ctx: OpenContext<RingOptions>): string {
  const journal = options.journal === 'fsync' ? 'journal' : 'memory';
  if (ctx.fault?.type === 'power-loss') {
    const restart = options.journal === 'fsync' ? 'the primary restarts on what is left of its journal, the secondary catches up from it' : 'both restart with empty memory';
    return `power loss (${ctx.fault.mode}) of the host of both ring-buffer servers (replicas: 2): kill -9 of both, then every journal write no fsync covered is dropped; ${restart}`;
  }
  return options.killReplica !== 'secondary'
    ? `kill -9 of the primary ring-buffer server (replicas: 2): the secondary takes over from its own ${journal}; the killed one restarts as the secondary and catches up`
    : `kill -9 of the secondary ring-buffer server (replicas: 2): the primary acknowledges alone meanwhile; the restarted one catches up`;
}

function faultName(options: RingOptions, ctx: OpenContext<RingOptions>): string {
  if (options.replicas === 2) return replicaFaultName(options, ctx);
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
  private restarts = 0;
  private closed = false;

  private constructor(
    private readonly ctx: OpenContext<RingOptions>,
    private readonly options: RingOptions,
    private readonly server: RingServers,
    private readonly dataDir: string,
    private readonly shape: LaneShape,
    private readonly layer: LossyDataDir | undefined,
  ) {
    const { host, port } = server.address;
    const stages = shape.stages;
    const lanes = laneCount(shape);
    const ports = server instanceof ReplicaPair ? { ports: server.clientPorts } : {};
    this.workerInit = { mode: 'child', host, port, ...ports, ...routedShape(ctx, shape), capacity: options.capacity };
    this.config = {
      process: 'child',
      journal: options.journal,
      dedup: options.dedup,
      capacity: options.capacity,
      lanes,
      ...(stages > 1 ? { stages } : {}),
      ...shapeConfig(shape),
      ...(options.replicas === 2 ? { replicas: 2, killReplica: options.killReplica ?? 'primary' } : {}),
      server: {
        address: (ports.ports ?? [port]).map((p) => `${host}:${p}`).join(' '),
        ...(ports.ports ? { pids: server.pids.map((p) => p.pid) } : { pid: server.pids[0]?.pid ?? -1 }),
        ...(options.journal === 'fsync' ? { dataDir } : {}),
      },
      ...(layer ? { dataLayer: `power-loss layer over ${layer.backing}` } : {}),
    };
    this.faults = {
      fault: faultName(options, ctx),
      kill: () => server.kill(),
      ...(layer
        ? {
            powerLoss: async (mode: PowerLossMode): Promise<PowerCut> => {
              await server.killAll();
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

  static async open(ctx: OpenContext<RingOptions>, options: RingOptions, shape: LaneShape): Promise<ChildRingSession> {
    const dataDir = path.join(ctx.runDir, 'data', 'ringbuffer');
    const onLayer = powerLossLayer(ctx);
    const layer = onLayer ? new LossyDataDir(dataDir, onLayer, ctx.log) : undefined;
    // A run starts empty; only a restart within the run reads the journal back.
    for (const d of [dataDir, `${dataDir}.backing`]) fs.rmSync(d, { recursive: true, force: true });
    await layer?.mount();
    const settings = { lanes: laneCount(shape), capacity: options.capacity, journal: options.journal, dedup: options.dedup === 'on' };
    const logs = path.join(ctx.runDir, 'logs');
    const server: RingServers & { start(): Promise<void> } =
      options.replicas === 2
        ? await ReplicaPair.create(settings, dataDir, logs, options.killReplica ?? 'primary')
        : new RingServerProcess({ ...settings, dataDir }, path.join(logs, 'ringbuffer-server.log'));
    ctx.log(`ringbuffer: starting the ring server${options.replicas === 2 ? 's (two replicas)' : ''} (journal ${options.journal})`);
    try {
      await server.start();
    } catch (err) {
      await layer?.unmount();
      throw err;
    }
    return new ChildRingSession(ctx, options, server, dataDir, shape, layer);
  }

  processes(): Array<{ name: string; pid: number }> {
    return this.server.pids;
  }

  async brokerCounts(): Promise<BrokerCounts> {
    const { host, port } = this.server.address;
    const stats = await fetchLaneStats(host, port).catch(async (err: unknown) => {
      const crash = await this.server.crashedWithin(1_000);
      throw crash ?? err;
    });
    // Stage 0 holds what the harness's producers sent, comparable with their ledger.
    const first = stats.slice(0, lanesPerStage(this.shape));
    const sum = (f: (s: (typeof stats)[number]) => number, lanes = first): number => lanes.reduce((n, s) => n + f(s), 0);
    // A partition's lane set is producers consecutive lanes (lanes.ts).
    const partitions = this.shape.partitions ?? 1;
    const ofPartition = (p: number): typeof stats => first.slice(p * this.ctx.producers, (p + 1) * this.ctx.producers);
    // A topic's lanes are its producers' (producer i writes topic i mod topics), in every partition.
    const topics = this.shape.topics ?? 1;
    const ofTopic = (t: number): typeof stats => first.filter((_, lane) => topicOfProducer(lane % this.ctx.producers, topics) === t);
    const counted = (lanes: typeof stats): { stored?: number; delivered: number } => ({ ...(comparable ? { stored: sum((s) => s.appended, lanes) } : {}), delivered: sum((s) => s.committed, lanes) });
    // A memory-only server restarted empty: its count covers only the time since.
    // Two replicas: the survivor (or the restarted primary's catch-up source) held every lane since the start.
    const comparable = this.options.journal === 'fsync' || this.restarts === 0 || (this.options.replicas === 2 && this.ctx.fault?.type !== 'power-loss');
    return {
      source: `ring server lane counters (stage 0${comparable ? '' : '; restarted with empty memory, so no stored count'})`,
      ...(comparable ? { stored: sum((s) => s.appended) } : {}),
      delivered: sum((s) => s.committed),
      detail: { backlog: sum((s) => s.appended - s.committed) },
      ...(partitions > 1 ? { perPartition: Array.from({ length: partitions }, (_, p) => counted(ofPartition(p))) } : {}),
      ...(topics > 1 ? { perTopic: Array.from({ length: topics }, (_, t) => counted(ofTopic(t))) } : {}),
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
