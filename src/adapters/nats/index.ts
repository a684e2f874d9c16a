/**
 * NATS JetStream: one stream and one durable pull consumer per run, on a nats-server the
 * harness starts (native), docker compose runs, or the user runs (external).
 */
import { jetstreamManager, AckPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { BrokerCounts, Cloneable, SystemAdapter, SystemSession } from '../../core/contract.ts';
import { BrokerError } from '../../core/errors.ts';
import { natsDeployment } from '../../brokers/nats-deployment.ts';
import { parseNatsOptions, type NatsOptions } from './options.ts';
import { connectNats } from './worker.ts';

export interface NatsWorkerInit {
  servers: string[];
  stream: string;
  subject: string;
  durable: string;
  options: NatsOptions;
}

const asOptions = (o: Record<string, unknown>): NatsOptions => o as unknown as NatsOptions;

/** Retries while JetStream is not answering yet (start-up, restart, leader election). */
async function withRetry<T>(what: string, fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const transient = /timeout|no responders|503|not available|leader/i.test((err as Error).message);
      if (!transient) throw err;
      if (Date.now() > deadline) throw new BrokerError(`nats: ${what} failed: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export const adapter: SystemAdapter = {
  name: 'nats',
  description: 'NATS JetStream (nats-server started by busbench)',

  parseOptions(raw, where) {
    return parseNatsOptions(raw, where) as unknown as Record<string, unknown>;
  },

  capabilities(raw) {
    const o = asOptions(raw);
    const js = o.mode === 'jetstream';
    return { durable: js && o.storage === 'file', acks: js, perProducerOrdering: true, deduplication: js && o.msgId, transactions: false };
  },

  async open(ctx): Promise<SystemSession> {
    const o = asOptions(ctx.options);
    const deployment = natsDeployment(ctx.brokers, { dir: ctx.runDir, topology: o.topology, syncInterval: o.syncInterval, log: ctx.log, externalUrl: ctx.externalUrls.nats });
    await deployment.start();
    let nc: NatsConnection | undefined;
    try {
      const servers = deployment.urls();
      nc = await connectNats(servers, 'busbench-admin');
      const name = `busbench_${ctx.runId}`.replace(/[^\w-]/g, '_');
      const subject = `busbench.${name}.orders`;
      const durable = 'busbench';
      let jsm: JetStreamManager | undefined;
      if (o.mode === 'jetstream') {
        const conn0 = nc;
        jsm = await withRetry('reaching JetStream', () => jetstreamManager(conn0));
        const m = jsm;
        await withRetry('creating the stream', () =>
          m.streams.add({
            name,
            subjects: [subject],
            storage: o.storage === 'file' ? StorageType.File : StorageType.Memory,
            num_replicas: o.replicas,
            duplicate_window: o.duplicateWindowMs * 1e6,
            max_msgs: o.maxMsgs,
            max_bytes: o.maxBytes,
          }),
        );
        await withRetry('creating the consumer', () =>
          m.consumers.add(name, {
            durable_name: durable,
            ack_policy: o.ackPolicy === 'explicit' ? AckPolicy.Explicit : AckPolicy.None,
            max_ack_pending: o.maxAckPending,
            ack_wait: 30e9,
          }),
        );
      }
      const init: NatsWorkerInit = { servers, stream: name, subject, durable, options: o };
      const conn = nc;
      return {
        workerInit: init as unknown as Cloneable,
        config: { broker: deployment.describe(), stream: name, ...o },
        faults: {
          fault: `kill -9 of nats-server (${o.topology === 'single' ? 'the server' : 'all 3 nodes'}); restart on the same store directory`,
          kill: () => deployment.kill(),
          restart: () => deployment.restart(),
        },
        async brokerCounts(): Promise<BrokerCounts> {
          if (!jsm) return { source: 'core NATS keeps no counts' };
          const m = jsm;
          const si = await withRetry('reading stream info', () => m.streams.info(name));
          const ci = await withRetry('reading consumer info', () => m.consumers.info(name, durable));
          return {
            source: 'jetstream stream info',
            stored: si.state.messages,
            delivered: ci.delivered.stream_seq,
            detail: { lastSeq: si.state.last_seq, ackFloor: ci.ack_floor.stream_seq, ackPending: ci.num_ack_pending, pending: ci.num_pending, redelivered: ci.num_redelivered },
          };
        },
        async close() {
          if (jsm) await jsm.streams.delete(name).catch(() => false);
          await conn.close().catch(() => undefined);
          if (ctx.brokers !== 'external') await deployment.stop();
        },
      };
    } catch (err) {
      await nc?.close().catch(() => undefined);
      if (ctx.brokers !== 'external') await deployment.stop();
      throw err;
    }
  },
};
