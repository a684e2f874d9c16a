/** The `nats:` section of a scenario: the server, stream and client settings engineers compare. */
import { refusePowerLoss } from '../../brokers/common/power-loss.ts';
import { refuseFaultTarget } from '../../core/fault-target.ts';
import { natsNodeNames } from '../../brokers/nats/native.ts';
import type { RunShape } from '../../core/contract.ts';
import { BusbenchError, ConfigError } from '../../core/errors.ts';
import { SectionReader, sectionOf } from '../../core/options.ts';
import { refuseTopicShape } from '../../core/topics.ts';

export type NatsOptions = {
  /** jetstream (stream, acks) or core NATS (plain pub/sub: no persistence, no acks) */
  mode: 'jetstream' | 'core';
  storage: 'file' | 'memory';
  topology: 'single' | 'cluster3';
  replicas: 1 | 3;
  /** server-wide jetstream.sync_interval: "default" (2 min), "always" or a duration */
  syncInterval: string;
  /** stream compression (file storage, nats-server >= 2.10) */
  compression: 'none' | 's2';
  /** what a full stream (maxMsgs/maxBytes) does: drop its oldest message, or refuse the new one */
  discard: 'old' | 'new';
  maxMsgs: number;
  maxBytes: number;
  /**
   * stream duplicate_window, ms: how long the stream remembers a Nats-Msg-Id to drop a
   * re-send of it (msgId on). A retry later than this is stored again. Every pipeline
   * stage has a stream, so a window, of its own.
   */
  duplicateWindowMs: number;
  /**
   * explicit: every message acked (the default); all: one ack per received batch, which
   * acks every earlier delivery of the durable, other consumers' included; none: no acks
   */
  ackPolicy: 'explicit' | 'all' | 'none';
  /** consumer max_ack_pending: deliveries awaiting an ack, across all harness consumers */
  maxAckPending: number;
  /**
   * consumer ack_wait, ms: a delivery without an ack is redelivered after this, e.g. what
   * a consumer received and never acked before it closed (close() never acks)
   */
  ackWaitMs: number;
  /** messages each harness consumer asks the server for at once (pull batch); 0 = derived */
  prefetch: number;
  /** fast: core publishes with reply subjects on one wildcard inbox; js: js.publish() */
  publish: 'fast' | 'js';
  /**
   * set Nats-Msg-Id "<origin producer>-<seq>" so the stream drops a re-sent message inside
   * duplicateWindow (and acks it, "duplicate":true). The origin is the producer that made
   * the message, also when a pipeline stage forwards it.
   */
  msgId: boolean;
  /**
   * acks as requests: Consumer.ack() resolves once the server confirmed every ack of the
   * batch, sending again what was not confirmed within ackTimeout (needs acks: not with
   * ackPolicy none)
   */
  doubleAck: boolean;
  /** a publish without its ack after this is counted unknown; an unconfirmed ack is sent again, ms */
  ackTimeoutMs: number;
};

const FIELDS = [
  'mode',
  'storage',
  'topology',
  'replicas',
  'syncInterval',
  'compression',
  'discard',
  'maxMsgs',
  'maxBytes',
  'duplicateWindow',
  'ackPolicy',
  'maxAckPending',
  'ackWait',
  'prefetch',
  'publish',
  'msgId',
  'doubleAck',
  'ackTimeout',
];

const DURATION = { minMs: 0, exclusive: true, expected: 'a duration such as "100ms", "10s", "2m"' };

export function parseNatsOptions(raw: unknown, where: string): NatsOptions {
  const section = sectionOf(raw, where, 'nats', FIELDS, 'NATS options') ?? {};
  const f = new SectionReader(where, 'nats', section, 'or');

  const replicasRaw = section.replicas ?? 1;
  if (replicasRaw !== 1 && replicasRaw !== 3) throw new ConfigError(where, 'nats.replicas', '1 or 3', replicasRaw);
  const replicas = replicasRaw as 1 | 3;
  const topology = f.oneOf('topology', ['single', 'cluster3'] as const, replicas === 3 ? 'cluster3' : 'single');
  if (replicas === 3 && topology !== 'cluster3') throw new ConfigError(where, 'nats.replicas', '1 on a single server (3 needs topology "cluster3")', replicas);

  const sync = section.syncInterval ?? 'default';
  if (typeof sync !== 'string' || (sync !== 'default' && sync !== 'always' && !/^\d+(ms|s|m|h)$/.test(sync))) {
    throw new ConfigError(where, 'nats.syncInterval', '"default", "always" or a whole duration such as "100ms", "1s", "2m"', sync);
  }
  const storage = f.oneOf('storage', ['file', 'memory'] as const, 'file');
  const compression = f.oneOf('compression', ['none', 's2'] as const, 'none');
  if (compression === 's2' && storage !== 'file') throw new ConfigError(where, 'nats.compression', '"none" with memory storage (s2 compresses file storage only)', compression);

  const ackPolicy = f.oneOf('ackPolicy', ['explicit', 'all', 'none'] as const, 'explicit');
  const doubleAck = f.onOff('doubleAck', false);
  if (doubleAck && ackPolicy === 'none') throw new ConfigError(where, 'nats.doubleAck', '"off" with ackPolicy "none" (no acks to confirm)', section.doubleAck);

  return {
    mode: f.oneOf('mode', ['jetstream', 'core'] as const, 'jetstream'),
    storage,
    topology,
    replicas,
    syncInterval: sync,
    compression,
    discard: f.oneOf('discard', ['old', 'new'] as const, 'old'),
    maxMsgs: f.integer('maxMsgs', { min: -1, hint: ' (-1: no limit)' }, -1),
    maxBytes: f.integer('maxBytes', { min: -1, hint: ' (-1: no limit)' }, -1),
    duplicateWindowMs: f.duration('duplicateWindow', DURATION, 120_000),
    ackPolicy,
    maxAckPending: f.integer('maxAckPending', { min: 1 }, 20_000),
    // short, so that what a killed broker delivered but never saw acked comes back soon
    ackWaitMs: f.duration('ackWait', DURATION, 10_000),
    prefetch: f.integer('prefetch', { min: 0, hint: ' (0: derived from maxAckPending)' }, 0),
    publish: f.oneOf('publish', ['fast', 'js'] as const, 'fast'),
    msgId: f.onOff('msgId', false),
    doubleAck,
    ackTimeoutMs: f.duration('ackTimeout', DURATION, 10_000),
  };
}

/** Partitions and keys are subjects of a JetStream stream with a durable per partition (partitions.ts). */
function refuseRouting(o: NatsOptions, run: RunShape, where: string): void {
  const partitions = run.partitions ?? 1;
  const keyed = run.keys !== undefined && run.keys.distribution !== 'none';
  if (partitions <= 1 && !keyed) return;
  const what = partitions > 1 ? 'partitions' : 'keys';
  const value = partitions > 1 ? partitions : run.keys!.distribution;
  const expected = partitions > 1 ? '1' : 'none';
  if (o.mode === 'core') throw new ConfigError(where, what, `${expected} with nats.mode core (partitions and keys are subjects of a JetStream stream, each partition read by a durable of its own)`, value);
  if (run.stages > 1) throw new ConfigError(where, what, `${expected} with pipeline stages on nats (a stage forwards to one subject)`, value);
  if (partitions > 1 && o.ackPolicy === 'all') throw new ConfigError(where, 'nats.ackPolicy', '"explicit" or "none" with partitions above 1 (an ack of "all" covers one durable, and a consumer reads several)', o.ackPolicy);
}

/**
 * Settings that the chosen deployment cannot honour are refused, not ignored. The harness
 * asks before anything starts (exit 2); open() asks again for callers that skip the plan.
 */
export function checkRun(o: NatsOptions, run: RunShape, where = 'nats options'): void {
  refusePowerLoss(run, where);
  refuseRouting(o, run, where);
  refuseTopicShape(run, where, 'nats');
  const nodes = run.brokers === 'native' ? natsNodeNames(o.topology) : [];
  refuseFaultTarget(run, where, nodes, run.brokers !== 'native' ? `busbench kills single nodes only of servers it runs, --brokers native` : 'one server; nats.topology cluster3 runs nats-1..3');
  if (o.syncInterval !== 'default' && run.brokers !== 'native') {
    throw new BusbenchError('CONFIG', `nats.syncInterval ${JSON.stringify(o.syncInterval)} is a setting of the server's config file, which busbench writes only for --brokers native; with --brokers ${run.brokers} set sync_interval on the servers and leave nats.syncInterval "default"`);
  }
  if (!Number.isInteger(run.stages) || run.stages < 1) throw new BusbenchError('CONFIG', `nats: ${run.stages} pipeline stages (a whole number, at least 1)`);
  if (run.backlog) refuseBacklog(o, run.backlog, where);
  if (o.ackPolicy === 'all' && run.consumers > 1) {
    // one consumer's ack would settle another's unprocessed deliveries: they would be lost
    throw new BusbenchError('CONFIG', `nats.ackPolicy "all" with ${run.consumers} consumers: an ack covers every earlier delivery of the shared durable, other consumers' too; use "explicit", or one consumer`);
  }
}

/** A backlog must wait in the stream, within its limits, while the consumers are paused. */
function refuseBacklog(o: NatsOptions, b: NonNullable<RunShape['backlog']>, where: string): void {
  if (o.mode === 'core') throw new ConfigError(where, 'nats.mode', '"jetstream" with backlog (core NATS keeps nothing for a paused consumer)', o.mode);
  if (o.ackPolicy === 'none') {
    // without acks nothing bounds what the server pushes: the backlog would sit in the paused client's memory
    throw new ConfigError(where, 'nats.ackPolicy', '"explicit" or "all" with backlog (with "none" the server pushes everything to the paused consumer: the backlog would be in busbench, not the stream)', o.ackPolicy);
  }
  if (o.maxMsgs >= 0 && o.maxMsgs < b.messages) throw new ConfigError(where, 'nats.maxMsgs', `at least the backlog's ${b.messages} messages, or -1 (a full stream ${o.discard === 'old' ? 'drops its oldest' : 'refuses new'} messages)`, o.maxMsgs);
  if (o.maxBytes >= 0 && o.maxBytes < b.bytes) throw new ConfigError(where, 'nats.maxBytes', `at least the backlog's ${b.bytes} bytes, or -1 (a full stream ${o.discard === 'old' ? 'drops its oldest' : 'refuses new'} messages)`, o.maxBytes);
}
