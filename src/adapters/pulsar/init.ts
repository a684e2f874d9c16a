/**
 * What the main thread hands every worker (structured-cloned): where the broker is, the
 * topic and subscription of the run, and the client settings.
 */
import type { Cloneable } from '../../core/contract.ts';
import { BusbenchError } from '../../core/errors.ts';
import type { ClientOptions } from './wire/client.ts';
import type { SubTypeName } from './wire/proto.ts';
import type { CompressionName } from './wire/compression.ts';

export type ConnectSettings = Pick<ClientOptions, 'serviceUrl' | 'listenerName' | 'token' | 'tls'>;
import type { KeyPlan } from '../../core/keys.ts';

export type PulsarInit = {
  serviceUrl: string;
  adminUrl: string;
  runId: string;
  /** persistent://tenant/ns/topic (the base name when partitioned) of the stage in use */
  topic: string;
  /** the topic of every pipeline stage; [0] is the run's topic */
  stageTopics: string[];
  /** with `topics: N` (N > 1), stage 0's topic per workload topic; forTopic() picks a worker's */
  topics?: string[];
  /** the stage `topic` belongs to */
  stage: number;
  partitions: number;
  /** without keys, consecutive sequences of a producer that go to one partition (core/partitions.ts); absent: a Pulsar batch */
  partitionChunk?: number;
  /** the key each message carries (absent = none): producers route by it and batch per key */
  keys?: KeyPlan;
  subscription: string;
  subscriptionType: SubTypeName;
  cumulativeAcks: boolean;
  batching: boolean;
  batchMaxMessages: number;
  batchMaxDelayMs: number;
  batchMaxBytes: number;
  compression: CompressionName;
  receiverQueueSize: number;
  ackGroupingMs: number;
  sendTimeoutMs: number;
  /** broker deduplication in the run's namespace */
  dedup: boolean;
  /** pipeline stages forward and acknowledge in transactions */
  transactions: boolean;
  txnTimeoutMs: number;
  /** '' or absent = the broker's default listener (absent: inits made before these settings existed) */
  listenerName?: string;
  tlsTrustCertsFilePath?: string;
  tlsAllowInsecureConnection?: boolean;
  /** absent = on */
  tlsHostnameVerification?: boolean;
  /** '' or absent = no authentication */
  token?: string;
};

/** The client settings every connection of the run uses (where, TLS checks, token). */
export function connectOf(init: PulsarInit): ConnectSettings {
  return {
    serviceUrl: init.serviceUrl,
    ...(init.listenerName ? { listenerName: init.listenerName } : {}),
    ...(init.token ? { token: init.token } : {}),
    tls: {
      ...(init.tlsTrustCertsFilePath ? { trustCertsFilePath: init.tlsTrustCertsFilePath } : {}),
      allowInsecureConnection: init.tlsAllowInsecureConnection === true,
      hostnameVerification: init.tlsHostnameVerification !== false,
    },
  };
}

/** Checks the shape, so a wrong init fails with a clear message rather than deep in the client. */
export function checkedInit(init: PulsarInit): PulsarInit {
  const o: Cloneable = init;
  const ok = o !== null && typeof o === 'object' && !Array.isArray(o) && !(o instanceof SharedArrayBuffer) && typeof o.serviceUrl === 'string' && typeof o.topic === 'string';
  if (!ok) throw new BusbenchError('ADAPTER', 'pulsar: worker init is not what the pulsar adapter opened');
  return init;
}

/**
 * The topic a transactional forwarder for `producerId` writes to: pinned to one partition
 * (a transaction's sends go to the topics it registered). The harness's producers route
 * over every partition instead (routing.ts).
 */
export function producerTopic(init: PulsarInit, producerId: number): string {
  return init.partitions > 0 ? `${init.topic}-partition-${producerId % init.partitions}` : init.topic;
}

/** Every partition of the stage's topic (the topic itself when not partitioned), in partition order. */
export function partitionTopics(init: PulsarInit): string[] {
  return init.partitions > 0 ? Array.from({ length: init.partitions }, (_, i) => `${init.topic}-partition-${i}`) : [init.topic];
}

/** Every topic a consumer reads: all partitions (the subscription spreads them). */
export const consumerTopics = partitionTopics;

/**
 * The same name after a crash or a reconnect, so broker deduplication knows the producer
 * again. At a pipeline stage, `producerId` is the origin producer being forwarded for.
 */
export function producerName(init: PulsarInit, producerId: number): string {
  return init.stage === 0 ? `busbench-${init.runId}-p${producerId}` : `busbench-${init.runId}-s${init.stage}-p${producerId}`;
}

/** The init with stage 0 on workload topic `t` (producer p writes topic p mod N, consumer c reads c mod N). */
export function forTopic(init: PulsarInit, t: number): PulsarInit {
  const topic = init.topics?.[t];
  return topic === undefined ? init : { ...init, topic, stageTopics: [topic, ...init.stageTopics.slice(1)] };
}

/** The init narrowed to one pipeline stage's topic. */
export function atStage(init: PulsarInit, stage = 0): PulsarInit {
  const topic = init.stageTopics[stage];
  if (topic === undefined) throw new Error(`pulsar: stage ${stage} does not exist (the run has ${init.stageTopics.length})`);
  return { ...init, topic, stage };
}
