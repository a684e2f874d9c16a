/**
 * NATS JetStream: one stream and one durable pull consumer per run, on a nats-server the
 * harness starts (native), docker compose runs, or the user runs (external). Core NATS
 * (`mode: core`) is the secondary mode: plain pub/sub, no stream, nothing acknowledged.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Capabilities, DurabilityLevel, SharedBroker, SystemAdapter } from '../../core/contract.ts';
import { natsDeployment } from '../../brokers/nats/deployment.ts';
import { checkRun, parseNatsOptions, type NatsOptions } from './options.ts';
import type { NatsWorkerInit } from './init.ts';
import { openSession } from './session.ts';

export type { NatsWorkerInit } from './init.ts';

/**
 * File storage writes each message before the ack, so a process crash loses nothing, but
 * the server fsyncs only every sync_interval (2 min by default): only `always` fsyncs
 * before acknowledging, which is what survives a power loss. A short interval narrows
 * the window without closing it.
 */
function durabilityOf(o: NatsOptions): DurabilityLevel {
  if (o.mode !== 'jetstream' || o.storage !== 'file') return 'none';
  return o.syncInterval === 'always' ? 'power-loss' : 'process-crash';
}

function capabilities(o: NatsOptions): Capabilities {
  const js = o.mode === 'jetstream';
  return { durability: durabilityOf(o), acks: js, perProducerOrdering: true, deduplication: js && o.msgId, transactions: false, idempotencyRecord: 'message-id' };
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

  open: openSession,
  startSharedBroker,
};

/**
 * One nats-server (or the 3-node cluster) with the scenario's own settings, for the shards
 * of --processes: every shard's run has its own stream on it, as on an external server.
 */
async function startSharedBroker(o: NatsOptions, ctx: { dir: string; log(line: string): void }): Promise<SharedBroker> {
  const deployment = natsDeployment('native', { dir: ctx.dir, topology: o.topology, syncInterval: o.syncInterval, log: ctx.log });
  try {
    await deployment.start();
  } catch (e) {
    await deployment.stop();
    throw e;
  }
  return {
    url: deployment.urls().join(','),
    describe: () => ({ ...deployment.describe(), sharedBy: 'the shards of --processes' }),
    stop: async () => {
      await deployment.stop();
      fs.rmSync(path.join(ctx.dir, 'data'), { recursive: true, force: true });
    },
  };
}
