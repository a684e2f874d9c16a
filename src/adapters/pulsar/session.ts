/**
 * A Pulsar run's main-thread side: the deployment, the run's namespace, topics and
 * subscription (created before any producer starts, deleted on close), and the broker's
 * own counts at the end.
 */
import { powerLossLayer } from '../../brokers/common/power-loss.ts';
import path from 'node:path';
import type { BrokerCounts, FaultInjector, OpenContext, SystemSession } from '../../core/contract.ts';
import { BusbenchError, UsageError } from '../../core/errors.ts';
import { targetOf } from '../../core/fault-target.ts';
import { NO_KEYS } from '../../core/keys.ts';
import { PulsarAdmin } from '../../brokers/pulsar/admin.ts';
import { pulsarDeployment, type PulsarDeployment } from '../../brokers/pulsar/deployment.ts';
import type { PulsarNativeOptions } from '../../brokers/pulsar/native.ts';
import { NativePulsarCluster, type PulsarClusterOptions } from '../../brokers/pulsar/cluster.ts';
import { writeAndRead } from './probe.ts';
import { atStage, connectOf, consumerTopics, type PulsarInit } from './init.ts';
import { checkRun, topicPartitions, resolveSubscriptionType, tokenOf, type PulsarOptions } from './options.ts';
import { readBack } from './read-back.ts';

const TENANT = 'busbench';
const SUBSCRIPTION = 'busbench';
/** Longest the end-of-run read-back of the topic may take before `stored` is left out. */
const READ_BACK_TIMEOUT_MS = 120_000;

type PulsarOpenContext = OpenContext<PulsarOptions>;

/** The run's namespace and topics: taken down again by close(), or by open() failing half-way. */
class RunTopics {
  readonly namespace: string;
  /** stage 0's topic (topic 0's with `topics: N`) */
  readonly topic: string;
  /** pipeline stages after the first get a topic each, in the same namespace (same dedup policy) */
  readonly stageTopics: string[];
  /** stage 0's topic per workload topic: <topic>-t<i>, or the run's one topic */
  readonly workloadTopics: string[];
  private admin: PulsarAdmin | undefined;
  private created = false;

  constructor(runId: string, stages: number, topics: number) {
    this.namespace = `${TENANT}/${runId}`;
    const base = `persistent://${this.namespace}/messages`;
    this.workloadTopics = topics > 1 ? Array.from({ length: topics }, (_, t) => `${base}-t${t}`) : [base];
    this.topic = this.workloadTopics[0]!;
    this.stageTopics = Array.from({ length: stages }, (_, s) => (s === 0 ? this.topic : `${base}-stage${s}`));
  }

  /** Every topic of the run, once each. */
  all(): string[] {
    return [...new Set([...this.workloadTopics, ...this.stageTopics])];
  }

  async create(admin: PulsarAdmin, o: PulsarOptions, partitions: number): Promise<void> {
    this.admin = admin;
    await admin.createTenant(TENANT, await admin.clusters());
    await admin.createNamespace(this.namespace, { deduplication: o.dedup === 'on' });
    this.created = true;
    // Without retention the broker deletes ledgers once every subscription has consumed
    // them (after a restart or a ledger rollover), and the read-back would count only
    // what is left. The data goes when close() deletes the topic.
    if (o.readBack === 'on') await admin.call('POST', `/admin/v2/namespaces/${this.namespace}/retention`, { retentionTimeInMinutes: -1, retentionSizeInMB: -1 });
    for (const t of this.all()) {
      await admin.createTopic(t, partitions);
      await admin.createSubscription(t, SUBSCRIPTION, 'earliest');
    }
  }

  async remove(log: (line: string) => void): Promise<void> {
    const admin = this.admin;
    if (!admin || !this.created) return;
    this.created = false;
    for (const t of this.all()) await admin.deleteTopic(t, { force: true }).catch((e: Error) => log(`pulsar: could not delete ${t}: ${e.message}`));
    // Not forced: brokers refuse that unless forceDeleteNamespaceAllowed; the topic is gone already.
    await admin.deleteNamespace(this.namespace).catch((e: Error) => log(`pulsar: could not delete namespace ${this.namespace}: ${e.message}`));
  }
}

function workerInitOf(ctx: PulsarOpenContext, deployment: PulsarDeployment, topics: RunTopics, subscriptionType: PulsarInit['subscriptionType']): PulsarInit {
  const o = ctx.options;
  return {
    // a cluster's every broker, so that clients look up through another while one is down
    serviceUrl: deployment instanceof NativePulsarCluster ? deployment.serviceUrl() : deployment.urls()[0]!,
    adminUrl: deployment.adminUrl(),
    runId: ctx.runId,
    topic: topics.topic,
    stageTopics: topics.stageTopics,
    ...(topics.workloadTopics.length > 1 ? { topics: topics.workloadTopics } : {}),
    stage: 0,
    partitions: topicPartitions(o, ctx.partitions?.count),
    // the harness's plan (a producer batch per partition without keys); without one, a Pulsar batch
    partitionChunk: ctx.partitions?.chunk ?? o.batchMaxMessages,
    keys: ctx.keys ?? NO_KEYS,
    subscription: SUBSCRIPTION,
    subscriptionType,
    cumulativeAcks: o.ackMode === 'cumulative',
    batching: o.batching === 'on',
    batchMaxMessages: o.batchMaxMessages,
    batchMaxDelayMs: o.batchMaxDelayMs,
    batchMaxBytes: o.batchMaxBytes,
    compression: o.compression,
    receiverQueueSize: o.receiverQueueSize,
    ackGroupingMs: o.ackGroupingMs,
    sendTimeoutMs: o.sendTimeoutMs,
    dedup: o.dedup === 'on',
    transactions: o.transactions === 'on',
    txnTimeoutMs: o.txnTimeoutMs,
    listenerName: o.listenerName,
    tlsTrustCertsFilePath: o.tlsTrustCertsFilePath,
    tlsAllowInsecureConnection: o.tlsAllowInsecureConnection === 'on',
    tlsHostnameVerification: o.tlsHostnameVerification === 'on',
    token: tokenOf(o),
  };
}

export class PulsarSession implements SystemSession<PulsarInit> {
  readonly workerInit: PulsarInit;
  readonly config: Record<string, unknown>;
  readonly faults?: FaultInjector;
  readonly processes?: () => Array<{ name: string; pid: number }>;
  readonly partitions?: number;
  private restarts = 0;

  private constructor(
    private readonly ctx: PulsarOpenContext,
    private readonly deployment: PulsarDeployment,
    private readonly owned: boolean,
    private readonly admin: PulsarAdmin,
    private readonly topics: RunTopics,
    subscriptionType: PulsarInit['subscriptionType'],
    serviceProblem?: () => string | undefined,
  ) {
    const o = ctx.options;
    this.workerInit = workerInitOf(ctx, deployment, topics, subscriptionType);
    if (this.workerInit.partitions > 1) this.partitions = this.workerInit.partitions;
    const description = deployment.describe();
    this.config = {
      ...o,
      // a credential: the result says only that one was used
      token: o.token ? '(set, not recorded)' : '',
      version: description.version,
      // replaces the `broker` option, which the description records (configOverrides, standaloneConf)
      broker: description,
      client: 'busbench wire client (src/adapters/pulsar/wire), protocol v19',
      topic: topics.topic,
      ...(topics.workloadTopics.length > 1 ? { topics: topics.workloadTopics } : {}),
      // what the topic has: the workload's partitions, or pulsar.partitions (0: not partitioned)
      partitions: this.workerInit.partitions,
      subscription: SUBSCRIPTION,
      subscriptionType,
      journalSyncSource: ctx.brokers === 'native' ? `set by busbench (${o.topology === 'cluster' ? 'each bookie\'s bookkeeper.conf' : 'standalone.conf'})` : ctx.brokers === 'compose' ? 'docker-compose.yml (journalSyncData=true)' : 'the external broker’s own configuration (not checked)',
    };
    if (owned) {
      this.faults = {
        fault: deployment instanceof NativePulsarCluster ? deployment.faultText(ctx.fault) : typeof description.fault === 'string' ? description.fault : `kill -9 of the Pulsar broker (${ctx.brokers})`,
        kill: (target) => deployment.kill(target),
        ...(deployment.powerLoss ? { powerLoss: deployment.powerLoss.bind(deployment) } : {}),
        ...(deployment.settle ? { settle: deployment.settle.bind(deployment) } : {}),
        restart: async () => {
          await deployment.restart();
          this.restarts++;
        },
        ...(serviceProblem ? { serviceProblem } : {}),
      };
    }
    if (deployment.processes) this.processes = () => deployment.processes?.() ?? [];
  }

  static async open(ctx: PulsarOpenContext): Promise<PulsarSession> {
    const o = ctx.options;
    checkRun(o, { producers: ctx.producers, consumers: ctx.consumers, messageSize: ctx.messageSize, stages: ctx.stages ?? 1, brokers: ctx.brokers, ...(ctx.keys ? { keys: ctx.keys } : {}), ...(ctx.partitions ? { partitions: ctx.partitions.count } : {}), ...(ctx.topics ? { topics: ctx.topics } : {}) }, 'pulsar options');
    const subscriptionType = resolveSubscriptionType(o, { consumers: ctx.consumers, ...(ctx.topics ? { topics: ctx.topics } : {}) }, 'pulsar options');
    const { deployment, owned, serviceProblem } = deploy(ctx, o);
    const topics = new RunTopics(ctx.runId, ctx.stages ?? 1, ctx.topics ?? 1);
    try {
      await deployment.start();
      const admin = new PulsarAdmin(deployment.adminUrl(), undefined, tokenOf(o));
      await topics.create(admin, o, topicPartitions(o, ctx.partitions?.count));
      return new PulsarSession(ctx, deployment, owned, admin, topics, subscriptionType, serviceProblem);
    } catch (err) {
      await topics
        .remove(ctx.log)
        .then(() => (owned ? deployment.stop() : undefined))
        .catch(() => undefined);
      throw err;
    }
  }

  async undelivered(): Promise<number> {
    // the last stage's topic, or with one stage every workload topic
    const last = this.topics.stageTopics.length === 1 ? this.topics.workloadTopics : [this.topics.stageTopics[this.topics.stageTopics.length - 1]!];
    let held = 0;
    for (const t of last) {
      const sub = (await this.admin.topicStats(t)).subscriptions[SUBSCRIPTION];
      held += sub ? sub.msgBacklog + sub.unackedMessages : 0;
    }
    return held;
  }

  /** What each later pipeline stage's topic holds (committed messages only: a reader never gets those of an aborted transaction), to compare with stage 0. */
  private async laterStagesStored(): Promise<Record<string, number>> {
    const stages: Record<string, number> = {};
    const init = this.workerInit;
    for (let s = 1; s < this.topics.stageTopics.length; s++) {
      const b = await readBack(connectOf(init), consumerTopics(atStage(init, s)), `busbench-read-back-${Date.now()}`, READ_BACK_TIMEOUT_MS);
      if (b.messages !== undefined) stages[`stage${s}Stored`] = b.messages;
    }
    return stages;
  }

  /**
   * A run over several topics: each topic's read-back (or, with pulsar.readBack off, what
   * it took in) and its subscription's deliveries, summed as the run's and per topic;
   * with partitions, partition p's counters summed over the topics.
   */
  private async multiTopicCounts(): Promise<BrokerCounts> {
    const init = this.workerInit;
    const per: Array<{ stored?: number; delivered: number; msgIn: number; partitions?: Array<{ stored: number; delivered: number }> }> = [];
    for (const topic of this.topics.workloadTopics) {
      const stats = await this.admin.topicStats(topic);
      const back = this.ctx.options.readBack === 'on' ? await readBack(connectOf(init), consumerTopics({ ...init, topic }), `busbench-read-back-${Date.now()}`, READ_BACK_TIMEOUT_MS) : undefined;
      const partitions = this.partitions ? (await this.admin.partitionCounters(topic, SUBSCRIPTION)).map((c) => ({ stored: c.msgInCounter, delivered: c.subscriptionMsgOutCounter })) : undefined;
      per.push({ ...(back?.messages !== undefined ? { stored: back.messages } : {}), delivered: stats.subscriptions[SUBSCRIPTION]?.msgOutCounter ?? 0, msgIn: stats.msgInCounter, ...(partitions ? { partitions } : {}) });
    }
    const sum = (f: (c: (typeof per)[number]) => number): number => per.reduce((t, c) => t + f(c), 0);
    const allStored = per.every((c) => c.stored !== undefined);
    return {
      source: `pulsar: each of the ${per.length} topics' ${allStored ? 'read-back (stored)' : 'admin stats (no stored count)'} and subscription msgOutCounter (delivered)`,
      ...(allStored ? { stored: sum((c) => c.stored!) } : {}),
      delivered: sum((c) => c.delivered),
      // a clean run's counters: what each topic took in (read back, or msgInCounter), and delivered to its subscription
      perTopic: per.map((c) => ({ stored: c.stored ?? c.msgIn, delivered: c.delivered })),
      ...(this.partitions ? { perPartition: Array.from({ length: this.partitions }, (_, p) => ({ stored: sum((c) => c.partitions![p]!.stored), delivered: sum((c) => c.partitions![p]!.delivered) })) } : {}),
      detail: { msgInCounter: sum((c) => c.msgIn), brokerRestarts: this.restarts },
    };
  }

  async brokerCounts(): Promise<BrokerCounts> {
    if (this.topics.workloadTopics.length > 1) return this.multiTopicCounts();
    const init = this.workerInit;
    const stats = await this.admin.topicStats(this.topics.topic);
    const sub = stats.subscriptions[SUBSCRIPTION];
    const back = this.ctx.options.readBack === 'on' ? await readBack(connectOf(init), consumerTopics(init), `busbench-read-back-${Date.now()}`, READ_BACK_TIMEOUT_MS) : undefined;
    const stages = back ? await this.laterStagesStored() : {};
    const perPartition = this.partitions ? await this.admin.partitionCounters(this.topics.topic, SUBSCRIPTION) : undefined;
    return {
      // a clean run's counters: what each partition took in, and what it delivered to the run's subscription
      ...(perPartition ? { perPartition: perPartition.map((c) => ({ stored: c.msgInCounter, delivered: c.subscriptionMsgOutCounter })) } : {}),
      source: back
        ? 'pulsar: messages read back from the topic by a non-durable reader (stored); subscription msgOutCounter from admin topic stats (delivered)'
        : 'pulsar: admin topic stats (pulsar.readBack off: no stored count; msgInCounter includes deduplicated resends and restarts with the broker)',
      ...(back?.messages !== undefined ? { stored: back.messages } : {}),
      ...(sub ? { delivered: sub.msgOutCounter } : {}),
      detail: {
        ...(back ? { storedEntries: back.entries, readBackMs: back.ms, readBackComplete: back.messages !== undefined ? 1 : 0 } : {}),
        // Counts since the broker (re)started; msgIn includes duplicates deduplication dropped.
        msgInCounter: stats.msgInCounter,
        msgOutCounter: stats.msgOutCounter,
        subscriptionMsgOutCounter: sub?.msgOutCounter ?? 0,
        // entries, not messages: a batch counts once
        subscriptionBacklogEntries: sub?.msgBacklog ?? 0,
        unackedMessages: sub?.unackedMessages ?? 0,
        storageSize: stats.storageSize,
        // what producers sent, metadata and (compressed) payloads, as the broker received it
        bytesInCounter: stats.bytesInCounter,
        brokerRestarts: this.restarts,
        ...stages,
      },
    };
  }

  async close(): Promise<void> {
    await this.topics.remove(this.ctx.log);
    if (this.owned) await this.deployment.stop();
  }
}

export function openSession(ctx: PulsarOpenContext): Promise<SystemSession<PulsarInit>> {
  return PulsarSession.open(ctx);
}

/** What the native standalone gets from the run's options (pure: a test reads it without starting one). */
export function nativeDeployOptions(ctx: PulsarOpenContext, o: PulsarOptions): PulsarNativeOptions {
  const layer = powerLossLayer(ctx);
  return {
    dir: path.join(ctx.runDir, 'pulsar'),
    log: ctx.log,
    journalSync: o.journalSync === 'on',
    deduplication: o.dedup === 'on',
    // Off unless the run uses transactions: a coordinator costs start-up time and a system topic.
    transactions: o.transactions === 'on',
    ...(o.broker ? { config: o.broker } : {}),
    ...(layer ? { powerLoss: layer } : {}),
  };
}

interface Deployed {
  deployment: PulsarDeployment;
  owned: boolean;
  /** the broker's own account of a service that did not come back (native only: its log is ours to read) */
  serviceProblem?: () => string | undefined;
}

/** What the native cluster gets from the run's options (pure, like nativeDeployOptions). */
export function clusterDeployOptions(ctx: PulsarOpenContext, o: PulsarOptions): PulsarClusterOptions {
  const { log: _log, ...same } = nativeDeployOptions(ctx, o);
  const cut = ctx.fault?.type === 'power-loss' ? { powerLossTarget: targetOf(ctx.fault) } : {};
  return { ...same, log: ctx.log, replication: { ensembleSize: o.ensembleSize, writeQuorum: o.writeQuorum, ackQuorum: o.ackQuorum }, probe: writeAndRead, ...cut };
}

function deploy(ctx: PulsarOpenContext, o: PulsarOptions): Deployed {
  switch (ctx.brokers) {
    case 'native': {
      if (o.topology === 'cluster') {
        const cluster = new NativePulsarCluster(clusterDeployOptions(ctx, o));
        return { deployment: cluster, owned: true, serviceProblem: () => cluster.serviceProblem() };
      }
      const native = pulsarDeployment('native', nativeDeployOptions(ctx, o));
      return { deployment: native, owned: true, serviceProblem: () => native.serviceProblem() };
    }
    case 'compose':
      return { deployment: pulsarDeployment('compose', { log: ctx.log }), owned: true };
    case 'external': {
      const url = ctx.externalUrls.pulsar;
      if (!url) throw new UsageError('pulsar: --brokers external needs the service URL: --url pulsar=pulsar://host:6650');
      const token = tokenOf(o);
      return { deployment: pulsarDeployment('external', { serviceUrl: url, ...(o.adminUrl ? { adminUrl: o.adminUrl } : {}), ...(token ? { token } : {}) }), owned: false };
    }
    default:
      throw new BusbenchError('USAGE', `pulsar: unknown broker mode ${String(ctx.brokers)}`);
  }
}
