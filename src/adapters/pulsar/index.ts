/**
 * Apache Pulsar through busbench's own client of the binary protocol (./wire): the npm
 * pulsar-client package downloads a native library at install time, which this project
 * cannot rely on.
 *
 * Each run gets its own namespace busbench/<runId> (deduplication is a namespace policy)
 * holding one persistent topic, `messages` (partitioned when asked), and one durable
 * subscription, `busbench`, created at the earliest position before any producer starts,
 * so nothing published is missed. close() deletes them and stops a broker it started.
 */
import path from 'node:path';
import type { BrokerCounts, Capabilities, OpenContext, RunShape, SystemAdapter, SystemSession } from '../../core/contract.ts';
import { BusbenchError, ConfigError, UsageError } from '../../core/errors.ts';
import { PulsarAdmin } from '../../brokers/pulsar/admin.ts';
import { pulsarDeployment, type PulsarDeployment } from '../../brokers/pulsar/deployment.ts';
import { atStage, consumerTopics, type PulsarInit } from './init.ts';
import { parsePulsarOptions, resolveSubscriptionType, type PulsarOptions } from './options.ts';
import { readBack } from './read-back.ts';

const TENANT = 'busbench';
const SUBSCRIPTION = 'busbench';
/** Longest the end-of-run read-back of the topic may take before `stored` is left out. */
const READ_BACK_TIMEOUT_MS = 120_000;

type PulsarOpenContext = OpenContext<PulsarOptions>;

/**
 * Refusals that need no broker: the harness asks before anything starts (exit 2), open()
 * again for callers that skip the plan.
 */
function checkRun(o: PulsarOptions, run: RunShape, where: string): void {
  resolveSubscriptionType(o, run.consumers, where);
  if (o.adminUrl && run.brokers !== 'external') {
    throw new ConfigError(where, 'pulsar.adminUrl', `nothing with --brokers ${run.brokers} (busbench knows where its own broker listens)`, o.adminUrl);
  }
  if (run.brokers === 'compose' && o.journalSync === 'off') {
    throw new ConfigError(where, 'pulsar.journalSync', '"on" with --brokers compose (docker-compose.yml sets journalSyncData=true)', o.journalSync);
  }
}

export const adapter: SystemAdapter<PulsarOptions, PulsarInit> = {
  name: 'pulsar',
  description: 'Apache Pulsar standalone (broker + bookie), persistent topic, through busbench’s own binary-protocol client',
  needsBroker: true,
  parseOptions: parsePulsarOptions,

  capabilities(o: PulsarOptions): Capabilities {
    return {
      // Durable here means "survives a crash of the broker process", the fault busbench
      // injects. journalSync off: the bookie acknowledges before fsync; a kill -9 keeps the
      // page cache, so acknowledged messages survive it, and only a power loss (not
      // tested) could take them. Same footing as NATS file storage with the default sync.
      durable: true,
      acks: true,
      perProducerOrdering: true,
      deduplication: o.dedup === 'on',
      transactions: o.transactions === 'on',
      idempotencyRecord: 'message-id',
    };
  },

  guaranteeOptions(guarantee) {
    // exactly-once: the broker drops a (producer name, sequence id) it already stored, and
    // pipeline stages forward and acknowledge in one transaction
    const on = guarantee === 'exactly-once' ? 'on' : 'off';
    return { dedup: on, transactions: on };
  },

  checkRun,

  async open(ctx: PulsarOpenContext): Promise<SystemSession<PulsarInit>> {
    const o = ctx.options;
    checkRun(o, { producers: ctx.producers, consumers: ctx.consumers, messageSize: ctx.messageSize, stages: ctx.stages ?? 1, brokers: ctx.brokers }, 'pulsar options');
    const subscriptionType = resolveSubscriptionType(o, ctx.consumers, 'pulsar options');
    const { deployment, owned } = deploy(ctx, o);
    let admin: PulsarAdmin | undefined;
    const namespace = `${TENANT}/${ctx.runId}`;
    const topic = `persistent://${namespace}/messages`;
    // pipeline stages after the first get a topic each, in the same namespace (same dedup policy)
    const stageTopics = Array.from({ length: ctx.stages ?? 1 }, (_, s) => (s === 0 ? topic : `${topic}-stage${s}`));
    let created = false;

    const close = async (): Promise<void> => {
      if (admin && created) {
        created = false;
        for (const t of stageTopics) await admin.deleteTopic(t, { force: true }).catch((e: Error) => ctx.log(`pulsar: could not delete ${t}: ${e.message}`));
        // Not forced: brokers refuse that unless forceDeleteNamespaceAllowed; the topic is gone already.
        await admin.deleteNamespace(namespace).catch((e: Error) => ctx.log(`pulsar: could not delete namespace ${namespace}: ${e.message}`));
      }
      if (owned) await deployment.stop();
    };

    try {
      await deployment.start();
      admin = new PulsarAdmin(deployment.adminUrl());
      await admin.createTenant(TENANT, await admin.clusters());
      await admin.createNamespace(namespace, { deduplication: o.dedup === 'on' });
      created = true;
      // Without retention the broker deletes ledgers once every subscription has consumed
      // them (after a restart or a ledger rollover), and the read-back would count only
      // what is left. The data goes when close() deletes the topic.
      if (o.readBack === 'on') await admin.call('POST', `/admin/v2/namespaces/${namespace}/retention`, { retentionTimeInMinutes: -1, retentionSizeInMB: -1 });
      for (const t of stageTopics) {
        await admin.createTopic(t, o.partitions);
        await admin.createSubscription(t, SUBSCRIPTION, 'earliest');
      }
    } catch (err) {
      await close().catch(() => undefined);
      throw err;
    }

    const init: PulsarInit = {
      serviceUrl: deployment.urls()[0]!,
      adminUrl: deployment.adminUrl(),
      runId: ctx.runId,
      topic,
      stageTopics,
      stage: 0,
      partitions: o.partitions,
      subscription: SUBSCRIPTION,
      subscriptionType,
      cumulativeAcks: o.ackMode === 'cumulative',
      batching: o.batching === 'on',
      batchMaxMessages: o.batchMaxMessages,
      batchMaxDelayMs: o.batchMaxDelayMs,
      batchMaxBytes: o.batchMaxBytes,
      receiverQueueSize: o.receiverQueueSize,
      sendTimeoutMs: o.sendTimeoutMs,
      dedup: o.dedup === 'on',
      transactions: o.transactions === 'on',
      txnTimeoutMs: o.txnTimeoutMs,
    };
    const a = admin;
    const description = deployment.describe();
    let restarts = 0;

    return {
      workerInit: init,
      config: {
        ...o,
        version: description.version,
        broker: description,
        client: 'busbench wire client (src/adapters/pulsar/wire), protocol v19',
        topic,
        subscription: SUBSCRIPTION,
        subscriptionType,
        journalSyncSource: ctx.brokers === 'native' ? 'set by busbench (standalone.conf)' : ctx.brokers === 'compose' ? 'docker-compose.yml (journalSyncData=true)' : 'the external broker’s own configuration (not checked)',
      },
      ...(owned
        ? {
            faults: {
              fault: typeof description.fault === 'string' ? description.fault : `kill -9 of the Pulsar broker (${ctx.brokers})`,
              kill: () => deployment.kill(),
              restart: async () => {
                await deployment.restart();
                restarts++;
              },
            },
          }
        : {}),
      ...(deployment.processes ? { processes: () => deployment.processes?.() ?? [] } : {}),
      undelivered: async (): Promise<number> => {
        const stats = await a.topicStats(stageTopics[stageTopics.length - 1]!);
        const sub = stats.subscriptions[SUBSCRIPTION];
        return sub ? sub.msgBacklog + sub.unackedMessages : 0;
      },
      brokerCounts: async (): Promise<BrokerCounts> => {
        const stats = await a.topicStats(topic);
        const sub = stats.subscriptions[SUBSCRIPTION];
        const back = o.readBack === 'on' ? await readBack(init.serviceUrl, consumerTopics(init), `busbench-read-back-${Date.now()}`, READ_BACK_TIMEOUT_MS) : undefined;
        // Later pipeline stages: what each topic holds (committed messages only: a reader
        // never gets those of an aborted transaction), to compare with stage 0.
        const stages: Record<string, number> = {};
        if (back) {
          for (let s = 1; s < stageTopics.length; s++) {
            const b = await readBack(init.serviceUrl, consumerTopics(atStage(init, s)), `busbench-read-back-${Date.now()}`, READ_BACK_TIMEOUT_MS);
            if (b.messages !== undefined) stages[`stage${s}Stored`] = b.messages;
          }
        }
        return {
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
            brokerRestarts: restarts,
            ...stages,
          },
        };
      },
      close,
    };
  },
};

function deploy(ctx: PulsarOpenContext, o: PulsarOptions): { deployment: PulsarDeployment; owned: boolean } {
  switch (ctx.brokers) {
    case 'native':
      return {
        deployment: pulsarDeployment('native', {
          dir: path.join(ctx.runDir, 'pulsar'),
          log: ctx.log,
          journalSync: o.journalSync === 'on',
          deduplication: o.dedup === 'on',
        }),
        owned: true,
      };
    case 'compose':
      return { deployment: pulsarDeployment('compose', { log: ctx.log }), owned: true };
    case 'external': {
      const url = ctx.externalUrls.pulsar;
      if (!url) throw new UsageError('pulsar: --brokers external needs the service URL: --url pulsar=pulsar://host:6650');
      return { deployment: pulsarDeployment('external', { serviceUrl: url, ...(o.adminUrl ? { adminUrl: o.adminUrl } : {}) }), owned: false };
    }
    default:
      throw new BusbenchError('USAGE', `pulsar: unknown broker mode ${String(ctx.brokers)}`);
  }
}
