/**
 * A NATS run's main-thread side: the deployment it started or attached to, one admin
 * connection, and the run's streams, deleted again on close.
 */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { BrokerCounts, FaultInjector, OpenContext, SystemSession } from '../../core/contract.ts';
import { BusbenchError } from '../../core/errors.ts';
import { targetOf, targetText } from '../../core/fault-target.ts';
import type { BrokerDeployment } from '../../brokers/broker.ts';
import { natsDeployment } from '../../brokers/nats/deployment.ts';
import { powerLossLayer } from '../../brokers/common/power-loss.ts';
import { versionAtLeast } from '../../brokers/nats/install.ts';
import { checkRun, type NatsOptions } from './options.ts';
import type { NatsWorkerInit } from './init.ts';
import { awaitReachable, closeConnection, connectNats } from './connection.ts';
import { createRunStream, durables, partitionedCounts, pipelineCounts, runStreamNames, topicCounts, topicStreamNames, withRetry, type RunStream } from './stream.ts';
import { routingOf, type NatsRouting } from './partitions.ts';

type NatsOpenContext = OpenContext<NatsOptions>;

/** Only the started server knows its version, so this refusal stays a failed run. */
function refuseForServer(o: NatsOptions, serverVersion: string | undefined): void {
  if (o.compression === 's2' && serverVersion && !versionAtLeast(serverVersion, 2, 10)) {
    throw new BusbenchError('CONFIG', `nats.compression "s2": nats-server ${serverVersion} predates stream compression (2.10)`);
  }
}

function faultName(ctx: NatsOpenContext, o: NatsOptions): string {
  const target = targetOf(ctx.fault);
  const who = o.topology === 'single' ? 'nats-server' : target === 'all' ? 'all 3 nats-server nodes' : target === 'majority' ? 'nats-1 and nats-2 (a majority of the 3 nodes)' : `node ${targetText(target)} of 3`;
  if (ctx.fault?.type === 'power-loss') {
    return `power loss (${ctx.fault.mode}) of ${who}: kill -9, then every write no fsync covered is dropped from the store directory, restart on what is left`;
  }
  const where = ctx.brokers === 'compose' ? ' (docker compose kill -s SIGKILL)' : '';
  // kill -9 takes the process only: what it wrote() sits in the page cache and survives;
  // sync_interval decides what a power loss would take, which this fault does not test
  return `kill -9 of ${who}${where}, restart on the same store directory (page cache survives)`;
}

async function openJetStream(nc: NatsConnection, stages: RunStream[], topics: RunStream[], o: NatsOptions, routing: NatsRouting | undefined): Promise<JetStreamManager> {
  const jsm = await withRetry('reaching JetStream', () => jetstreamManager(nc, { timeout: 5_000 }));
  // partitions, keys and topics are stage 0's only (checkRun refuses them with stages)
  for (const names of topics) await createRunStream(jsm, names, o, routing);
  for (const names of stages.slice(1)) await createRunStream(jsm, names, o);
  return jsm;
}

/**
 * The subjects and durables of a routed run (partitions or keys) for its config: each
 * topic's stream has the same durables, and its own subjects (with topics, not only topic 0's).
 */
function routedConfig(names: RunStream, topics: RunStream[], r: NatsRouting): { subjects: string | string[]; durables: string[] } {
  const pattern = (subject: string): string => `${subject}.p<partition>${r.keys.distribution === 'none' ? '' : '.<key>'}`;
  return { subjects: topics.length > 1 ? topics.map((t) => pattern(t.subject)) : pattern(names.subject), durables: durables(names, r).map((d) => d.durable) };
}

export class NatsSession implements SystemSession<NatsWorkerInit> {
  readonly workerInit: NatsWorkerInit;
  readonly config: Record<string, unknown>;
  readonly faults: FaultInjector;
  readonly processes?: () => Array<{ name: string; pid: number }>;
  readonly partitions?: number;
  private closed = false;

  constructor(
    private readonly ctx: NatsOpenContext,
    private readonly deployment: BrokerDeployment,
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager | undefined,
    private readonly stages: RunStream[],
    /** stage 0's stream per topic; [stages[0]] with one topic */
    private readonly topics: RunStream[],
    o: NatsOptions,
    private readonly routing?: NatsRouting,
  ) {
    const names = stages[0]!;
    this.workerInit = { servers: deployment.urls(), stages, options: o, ...(routing ? { routing } : {}), ...(topics.length > 1 ? { topics } : {}) };
    if (routing && routing.plan.count > 1) this.partitions = routing.plan.count;
    this.config = {
      broker: deployment.describe(),
      serverVersion: nc.info?.version ?? 'unknown',
      // one stream's names only where the run has one: with topics, `topics` lists them all
      ...(topics.length > 1 ? {} : jsm ? names : { subject: names.subject }),
      ...(routing ? routedConfig(names, topics, routing) : {}),
      ...(stages.length > 1 ? { stages: stages.map((s) => (jsm ? s.stream : s.subject)) } : {}),
      ...(topics.length > 1 ? { topics: topics.map((t) => (jsm ? t.stream : t.subject)) } : {}),
      ...o,
    };
    this.faults = {
      fault: faultName(ctx, o),
      kill: (target) => deployment.kill(target),
      ...(deployment.powerLoss ? { powerLoss: deployment.powerLoss.bind(deployment) } : {}),
        ...(deployment.settle ? { settle: deployment.settle.bind(deployment) } : {}),
      ...(deployment.serviceProblem ? { serviceProblem: deployment.serviceProblem.bind(deployment) } : {}),
      restart: async () => {
        await deployment.restart();
        await awaitReachable(nc);
      },
    };
    if (deployment.processes) this.processes = () => deployment.processes?.() ?? [];
  }

  async undelivered(): Promise<number> {
    if (!this.jsm) return 0;
    // the last stage's stream, or with one stage every topic's
    const last = this.stages.length === 1 ? this.topics : [this.stages[this.stages.length - 1]!];
    let held = 0;
    // one quick answer or none: the drain asks again a second later
    for (const names of last) {
      for (const { durable } of durables(names, this.stages.length === 1 ? this.routing : undefined)) {
        const ci = await this.jsm.consumers.info(names.stream, durable);
        held += ci.num_pending + ci.num_ack_pending;
      }
    }
    return held;
  }

  async brokerCounts(): Promise<BrokerCounts> {
    if (!this.jsm) return { source: 'core NATS keeps no counts' };
    await awaitReachable(this.nc);
    const counts =
      this.topics.length > 1 ? await topicCounts(this.jsm, this.topics, this.routing) : this.routing ? await partitionedCounts(this.jsm, this.stages[0]!, this.routing) : await pipelineCounts(this.jsm, this.stages);
    const layer = await this.deployment.dataLayerStats?.().catch(() => ({}));
    return layer && Object.keys(layer).length > 0 ? { ...counts, detail: { ...counts.detail, ...layer } } : counts;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // a dead broker cannot delete anything: skip rather than wait out a request timeout
    const reachable = await awaitReachable(this.nc, 2_000).then(
      () => true,
      () => false,
    );
    if (this.jsm && reachable) for (const s of new Set([...this.topics, ...this.stages])) await this.jsm.streams.delete(s.stream).catch(() => false);
    await closeConnection(this.nc);
    if (this.ctx.brokers !== 'external') await this.deployment.stop();
  }
}

export async function openSession(ctx: NatsOpenContext): Promise<SystemSession<NatsWorkerInit>> {
  const o = ctx.options;
  checkRun(o, { producers: ctx.producers, consumers: ctx.consumers, messageSize: ctx.messageSize, stages: ctx.stages ?? 1, brokers: ctx.brokers, ...(ctx.keys ? { keys: ctx.keys } : {}), ...(ctx.partitions ? { partitions: ctx.partitions.count } : {}), ...(ctx.topics ? { topics: ctx.topics } : {}) });
  const routing = routingOf(ctx.partitions, ctx.keys);
  const deployment = natsDeployment(ctx.brokers, { dir: ctx.runDir, topology: o.topology, syncInterval: o.syncInterval, log: ctx.log, externalUrl: ctx.externalUrls.nats, powerLoss: powerLossLayer(ctx) });
  let nc: NatsConnection | undefined;
  try {
    await deployment.start();
    nc = await connectNats(deployment.urls(), 'busbench-admin');
    refuseForServer(o, nc.info?.version);
    const topics = topicStreamNames(ctx.runId, ctx.topics ?? 1);
    // stage 0 is topic 0's stream (topics come without stages)
    const stages = Array.from({ length: ctx.stages ?? 1 }, (_, s) => (s === 0 ? topics[0]! : runStreamNames(ctx.runId, s)));
    const jsm = o.mode === 'jetstream' ? await openJetStream(nc, stages, topics, o, routing) : undefined;
    return new NatsSession(ctx, deployment, nc, jsm, stages, topics, o, routing);
  } catch (err) {
    if (nc) await closeConnection(nc);
    if (ctx.brokers !== 'external') await deployment.stop().catch(() => undefined);
    throw err;
  }
}
