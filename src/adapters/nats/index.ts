/**
 * NATS JetStream: one stream and one durable pull consumer per run, on a nats-server the
 * harness starts (native), docker compose runs, or the user runs (external). Core NATS
 * (`mode: core`) is the secondary mode: plain pub/sub, no stream, nothing acknowledged.
 */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { BrokerCounts, Capabilities, FaultInjector, OpenContext, RunShape, SystemAdapter, SystemSession } from '../../core/contract.ts';
import { BusbenchError } from '../../core/errors.ts';
import type { BrokerDeployment } from '../../brokers/broker.ts';
import { natsDeployment } from '../../brokers/nats/deployment.ts';
import { versionAtLeast } from '../../brokers/nats/install.ts';
import { parseNatsOptions, type NatsOptions } from './options.ts';
import { awaitReachable, closeConnection, connectNats } from './connection.ts';
import { createRunStream, pipelineCounts, runStreamNames, withRetry, type RunStream } from './stream.ts';

export type NatsWorkerInit = {
  servers: string[];
  /** one per pipeline stage; [0] is the run's stream */
  stages: RunStream[];
  options: NatsOptions;
};

type NatsOpenContext = OpenContext<NatsOptions>;

function capabilities(o: NatsOptions): Capabilities {
  const js = o.mode === 'jetstream';
  return { durable: js && o.storage === 'file', acks: js, perProducerOrdering: true, deduplication: js && o.msgId, transactions: false, idempotencyRecord: 'message-id' };
}

/**
 * Settings that the chosen deployment cannot honour are refused, not ignored. The harness
 * asks before anything starts (exit 2); open() asks again for callers that skip the plan.
 */
function checkRun(o: NatsOptions, run: RunShape): void {
  if (o.syncInterval !== 'default' && run.brokers !== 'native') {
    throw new BusbenchError('CONFIG', `nats.syncInterval ${JSON.stringify(o.syncInterval)} is a setting of the server's config file, which busbench writes only for --brokers native; with --brokers ${run.brokers} set sync_interval on the servers and leave nats.syncInterval "default"`);
  }
  if (!Number.isInteger(run.stages) || run.stages < 1) throw new BusbenchError('CONFIG', `nats: ${run.stages} pipeline stages (a whole number, at least 1)`);
  if (o.ackPolicy === 'all' && run.consumers > 1) {
    // one consumer's ack would settle another's unprocessed deliveries: they would be lost
    throw new BusbenchError('CONFIG', `nats.ackPolicy "all" with ${run.consumers} consumers: an ack covers every earlier delivery of the shared durable, other consumers' too; use "explicit", or one consumer`);
  }
}

/** Only the started server knows its version, so this refusal stays a failed run. */
function refuseForServer(o: NatsOptions, serverVersion: string | undefined): void {
  if (o.compression === 's2' && serverVersion && !versionAtLeast(serverVersion, 2, 10)) {
    throw new BusbenchError('CONFIG', `nats.compression "s2": nats-server ${serverVersion} predates stream compression (2.10)`);
  }
}

function faultName(ctx: NatsOpenContext, o: NatsOptions): string {
  const who = o.topology === 'single' ? 'nats-server' : 'all 3 nats-server nodes';
  const where = ctx.brokers === 'compose' ? ' (docker compose kill -s SIGKILL)' : '';
  // kill -9 takes the process only: what it wrote() sits in the page cache and survives;
  // sync_interval decides what a power loss would take, which this fault does not test
  return `kill -9 of ${who}${where}, restart on the same store directory (page cache survives)`;
}

async function openJetStream(nc: NatsConnection, stages: RunStream[], o: NatsOptions): Promise<JetStreamManager> {
  const jsm = await withRetry('reaching JetStream', () => jetstreamManager(nc, { timeout: 5_000 }));
  for (const names of stages) await createRunStream(jsm, names, o);
  return jsm;
}

class NatsSession implements SystemSession<NatsWorkerInit> {
  readonly workerInit: NatsWorkerInit;
  readonly config: Record<string, unknown>;
  readonly faults: FaultInjector;
  readonly processes?: () => Array<{ name: string; pid: number }>;
  private closed = false;

  constructor(
    private readonly ctx: NatsOpenContext,
    private readonly deployment: BrokerDeployment,
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager | undefined,
    private readonly stages: RunStream[],
    o: NatsOptions,
  ) {
    const names = stages[0]!;
    this.workerInit = { servers: deployment.urls(), stages, options: o };
    this.config = {
      broker: deployment.describe(),
      serverVersion: nc.info?.version ?? 'unknown',
      ...(jsm ? names : { subject: names.subject }),
      ...(stages.length > 1 ? { stages: stages.map((s) => (jsm ? s.stream : s.subject)) } : {}),
      ...o,
    };
    this.faults = {
      fault: faultName(ctx, o),
      kill: () => deployment.kill(),
      restart: async () => {
        await deployment.restart();
        await awaitReachable(nc);
      },
    };
    if (deployment.processes) this.processes = () => deployment.processes?.() ?? [];
  }

  async undelivered(): Promise<number> {
    if (!this.jsm) return 0;
    const last = this.stages[this.stages.length - 1]!;
    // one quick answer or none: the drain asks again a second later
    const ci = await this.jsm.consumers.info(last.stream, last.durable);
    return ci.num_pending + ci.num_ack_pending;
  }

  async brokerCounts(): Promise<BrokerCounts> {
    if (!this.jsm) return { source: 'core NATS keeps no counts' };
    await awaitReachable(this.nc);
    return pipelineCounts(this.jsm, this.stages);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // a dead broker cannot delete anything: skip rather than wait out a request timeout
    const reachable = await awaitReachable(this.nc, 2_000).then(
      () => true,
      () => false,
    );
    if (this.jsm && reachable) for (const s of this.stages) await this.jsm.streams.delete(s.stream).catch(() => false);
    await closeConnection(this.nc);
    if (this.ctx.brokers !== 'external') await this.deployment.stop();
  }
}

export const adapter: SystemAdapter<NatsOptions, NatsWorkerInit> = {
  name: 'nats',
  description: 'NATS JetStream (nats-server started by busbench, a compose cluster, or yours)',
  needsBroker: true,
  parseOptions: parseNatsOptions,
  capabilities,

  guaranteeOptions(guarantee) {
    // exactly-once: the stream drops a re-sent message id, and a consumer's ack is confirmed
    const on = guarantee === 'exactly-once';
    return { msgId: on, doubleAck: on };
  },

  checkRun,

  async open(ctx): Promise<SystemSession<NatsWorkerInit>> {
    const o = ctx.options;
    checkRun(o, { producers: ctx.producers, consumers: ctx.consumers, messageSize: ctx.messageSize, stages: ctx.stages ?? 1, brokers: ctx.brokers });
    const deployment = natsDeployment(ctx.brokers, { dir: ctx.runDir, topology: o.topology, syncInterval: o.syncInterval, log: ctx.log, externalUrl: ctx.externalUrls.nats });
    let nc: NatsConnection | undefined;
    try {
      await deployment.start();
      nc = await connectNats(deployment.urls(), 'busbench-admin');
      refuseForServer(o, nc.info?.version);
      const stages = Array.from({ length: ctx.stages ?? 1 }, (_, s) => runStreamNames(ctx.runId, s));
      const jsm = o.mode === 'jetstream' ? await openJetStream(nc, stages, o) : undefined;
      return new NatsSession(ctx, deployment, nc, jsm, stages, o);
    } catch (err) {
      if (nc) await closeConnection(nc);
      if (ctx.brokers !== 'external') await deployment.stop().catch(() => undefined);
      throw err;
    }
  },
};
