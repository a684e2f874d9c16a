/**
 * The `pulsar:` section of a scenario. Every field is optional; the defaults are the
 * Java client's (batches of up to 1000 messages / 128 KiB, sent after at most 1 ms) and
 * a broker that keeps its promises (journal fsync, deduplication on).
 */
import fs from 'node:fs';
import type { RunShape } from '../../core/contract.ts';
import { ConfigError } from '../../core/errors.ts';
import { SectionReader, sectionOf } from '../../core/options.ts';
import { isConfValue, settingProblem, type ConfValue } from '../../brokers/pulsar/config.ts';
import { COMPRESSIONS, type CompressionName } from './wire/compression.ts';
import { CLUSTER_SIZE, DEFAULT_REPLICATION, clusterNodeNames, replicationProblem } from '../../brokers/pulsar/cluster-config.ts';
import { refuseFaultTarget } from '../../core/fault-target.ts';
import { consumersOfTopic, refuseTopicShape } from '../../core/topics.ts';

export type OnOff = 'on' | 'off';
export type SubscriptionType = 'auto' | 'exclusive' | 'shared' | 'failover' | 'key_shared';
export type AckMode = 'individual' | 'cumulative';

export type PulsarTopology = 'standalone' | 'cluster';

export type PulsarOptions = {
  /**
   * --brokers native: one standalone JVM, or a cluster of 3 ZooKeeper nodes, 3 bookies and
   * 3 brokers (src/brokers/pulsar/cluster.ts)
   */
  topology: PulsarTopology;
  /** bookies each ledger is spread over (managedLedgerDefaultEnsembleSize); 1 on a standalone, 3 on a cluster by default */
  ensembleSize: number;
  /** copies of each entry (managedLedgerDefaultWriteQuorum); 1 / 3 */
  writeQuorum: number;
  /** copies written before the broker acknowledges (managedLedgerDefaultAckQuorum); 1 / 2 */
  ackQuorum: number;
  /** batch messages into entries (one broker write, one receipt per batch) */
  batching: OnOff;
  batchMaxMessages: number;
  /** longest a message waits for its batch to fill */
  batchMaxDelayMs: number;
  batchMaxBytes: number;
  /**
   * producers compress each entry's payload (the Java client's compressionType); consumers
   * decode whatever codec an entry says, whatever this is set to
   */
  compression: CompressionName;
  /** auto: exclusive with one consumer, shared with several */
  subscriptionType: SubscriptionType;
  /** cumulative needs an exclusive or failover subscription */
  ackMode: AckMode;
  /** BookKeeper journalSyncData: fsync the journal before acknowledging */
  journalSync: OnOff;
  /** 0 = a non-partitioned topic */
  partitions: number;
  /** broker deduplication for the run's namespace */
  dedup: OnOff;
  /** messages each consumer prefetches */
  receiverQueueSize: number;
  /**
   * consumers gather acknowledgements for up to this long and send them in one ACK
   * command (the Java client's acknowledgmentGroupTime, 100 ms there; at most 1000 ids a
   * group); 0 (busbench's default) sends each receive's acks at once, in one command
   * already: measured, grouping saved neither time nor CPU (README).
   * Transactional acks are never grouped.
   */
  ackGroupingMs: number;
  /**
   * a publish unanswered this long counts as unknown. 60 s (the Java client has 30 s): a
   * native standalone takes 20-30 s to restart on two cores, and a kill/restart fault
   * should not turn messages that are merely waiting into unknowns.
   */
  sendTimeoutMs: number;
  /** --brokers external only: the admin REST URL ('' = http://<service host>:8080) */
  adminUrl: string;
  /**
   * on: the run's namespace keeps consumed messages (infinite retention) until close()
   * deletes it, and the end-of-run cross-check reads the topic back to count what the
   * broker stored. off: the broker deletes consumed ledgers as usual; no stored count.
   */
  readBack: OnOff;
  /**
   * on: each middle stage of a pipeline consumes, produces to the next stage and
   * acknowledges in one transaction (consume-process-produce exactly-once). off: it
   * produces, waits for the receipts, then acknowledges (at-least-once; exactly-once
   * only as far as deduplication at the next stage catches re-forwards).
   */
  transactions: OnOff;
  /** the coordinator aborts a transaction not ended within this (a crashed stage's) */
  txnTimeoutMs: number;
  /**
   * --brokers native only: standalone.conf settings written over busbench's own, e.g.
   * { journalWriteBufferSizeKB: 256 }. Optional, and absent unless given, so a run
   * without it records the same configuration as before the option existed.
   */
  broker?: Record<string, ConfValue>;
  /**
   * --brokers external only: the advertised listener lookups answer with (a broker's
   * advertisedListeners "<name>:pulsar://host:port"); '' = the broker's default address.
   */
  listenerName: string;
  /** pulsar+ssl:// URLs: PEM file of the certificates the broker's is checked against ('' = Node's CA store) */
  tlsTrustCertsFilePath: string;
  /** pulsar+ssl:// URLs: accept any certificate, unchecked */
  tlsAllowInsecureConnection: OnOff;
  /** pulsar+ssl:// URLs: the certificate must name the host connected to (the Java client's default is off) */
  tlsHostnameVerification: OnOff;
  /** token authentication (a JWT); never written to the result */
  token: string;
  /** token authentication: a file holding the token (read at the start of the run) */
  tokenFile: string;
};

export const DEFAULT_OPTIONS: PulsarOptions = {
  topology: 'standalone',
  ensembleSize: 1,
  writeQuorum: 1,
  ackQuorum: 1,
  batching: 'on',
  batchMaxMessages: 1000,
  batchMaxDelayMs: 1,
  batchMaxBytes: 128 * 1024,
  compression: 'none',
  subscriptionType: 'auto',
  ackMode: 'individual',
  journalSync: 'on',
  partitions: 0,
  dedup: 'on',
  receiverQueueSize: 1000,
  ackGroupingMs: 0,
  sendTimeoutMs: 60_000,
  adminUrl: '',
  readBack: 'on',
  transactions: 'off',
  txnTimeoutMs: 10_000,
  listenerName: '',
  tlsTrustCertsFilePath: '',
  tlsAllowInsecureConnection: 'off',
  tlsHostnameVerification: 'on',
  token: '',
  tokenFile: '',
};

const KEYS = [...Object.keys(DEFAULT_OPTIONS), 'broker'] as (keyof PulsarOptions)[];
const TOPOLOGIES: readonly PulsarTopology[] = ['standalone', 'cluster'];
const SUB_TYPES: readonly SubscriptionType[] = ['auto', 'exclusive', 'shared', 'failover', 'key_shared'];
const ACK_MODES: readonly AckMode[] = ['individual', 'cumulative'];
/** The broker's default maxMessageSize (5 MiB) less room for framing. */
const MAX_BATCH_BYTES = 5 * 1024 * 1024 - 64 * 1024;
const BATCH_BYTES = { min: 1024, max: MAX_BATCH_BYTES, expected: `bytes from 1KiB to ${MAX_BATCH_BYTES} (a number, or e.g. "128KiB")` };

export function parsePulsarOptions(raw: unknown, where: string): PulsarOptions {
  const section = sectionOf(raw, where, 'pulsar', KEYS, 'Pulsar options');
  if (!section) return { ...DEFAULT_OPTIONS };
  const f = new SectionReader(where, 'pulsar', section, 'list');
  const d = DEFAULT_OPTIONS;
  const o: PulsarOptions = {
    ...replicationOptions(f, where),
    batching: f.onOffWord('batching', d.batching),
    batchMaxMessages: f.integer('batchMaxMessages', { min: 1, max: 100_000 }, d.batchMaxMessages),
    batchMaxDelayMs: f.integer('batchMaxDelayMs', { min: 0, max: 10_000 }, d.batchMaxDelayMs),
    batchMaxBytes: f.size('batchMaxBytes', BATCH_BYTES, d.batchMaxBytes),
    compression: f.oneOf('compression', COMPRESSIONS, d.compression),
    subscriptionType: f.oneOf('subscriptionType', SUB_TYPES, d.subscriptionType),
    ackMode: f.oneOf('ackMode', ACK_MODES, d.ackMode),
    journalSync: f.onOffWord('journalSync', d.journalSync),
    partitions: f.integer('partitions', { min: 0, max: 256 }, d.partitions),
    dedup: f.onOffWord('dedup', d.dedup),
    receiverQueueSize: f.integer('receiverQueueSize', { min: 1, max: 1_000_000 }, d.receiverQueueSize),
    ackGroupingMs: f.integer('ackGroupingMs', { min: 0, max: 60_000 }, d.ackGroupingMs),
    sendTimeoutMs: f.integer('sendTimeoutMs', { min: 0, max: 3_600_000 }, d.sendTimeoutMs),
    adminUrl: d.adminUrl,
    readBack: f.onOffWord('readBack', d.readBack),
    transactions: f.onOffWord('transactions', d.transactions),
    txnTimeoutMs: f.integer('txnTimeoutMs', { min: 100, max: 3_600_000 }, d.txnTimeoutMs),
    ...connectOptions(f),
  };
  // '' (the default) is accepted too: parsing an already parsed section must give it back.
  if (section.adminUrl !== undefined && section.adminUrl !== '') {
    if (typeof section.adminUrl !== 'string' || !/^https?:\/\/[^/\s]+\/?$/.test(section.adminUrl)) throw new ConfigError(where, 'pulsar.adminUrl', 'an http(s) URL such as "http://127.0.0.1:8080"', section.adminUrl);
    o.adminUrl = section.adminUrl.replace(/\/$/, '');
  }
  if (section.broker !== undefined) o.broker = brokerSettings(section.broker, where);
  if (o.ackMode === 'cumulative' && (o.subscriptionType === 'shared' || o.subscriptionType === 'key_shared')) {
    throw new ConfigError(where, 'pulsar.ackMode', `"individual" with a ${o.subscriptionType} subscription (Pulsar allows cumulative acks only on exclusive and failover ones)`, o.ackMode);
  }
  return o;
}

/** The topology and its quorums: a standalone has one bookie, a cluster three (defaults 3/3/2, as the reference cluster). */
function replicationOptions(f: SectionReader, where: string): Pick<PulsarOptions, 'topology' | 'ensembleSize' | 'writeQuorum' | 'ackQuorum'> {
  const topology = f.oneOf('topology', TOPOLOGIES, DEFAULT_OPTIONS.topology);
  const max = topology === 'cluster' ? CLUSTER_SIZE : 1;
  const d = topology === 'cluster' ? DEFAULT_REPLICATION : { ensembleSize: 1, writeQuorum: 1, ackQuorum: 1 };
  const range = { min: 1, max };
  const r = { ensembleSize: f.integer('ensembleSize', range, d.ensembleSize), writeQuorum: f.integer('writeQuorum', range, d.writeQuorum), ackQuorum: f.integer('ackQuorum', range, d.ackQuorum) };
  const problem = replicationProblem(r, max);
  if (problem) throw new ConfigError(where, 'pulsar.ackQuorum', `ackQuorum <= writeQuorum <= ensembleSize <= ${max} (${problem})`, `${r.ensembleSize}/${r.writeQuorum}/${r.ackQuorum}`);
  return { topology, ...r };
}

const LISTENER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** A JWT's characters (base64url and dots), or any other token without blanks. */
const TOKEN = /^[\x21-\x7e]+$/;

/** How clients reach and authenticate to the broker: listener, TLS, token. */
function connectOptions(f: SectionReader): Pick<PulsarOptions, 'listenerName' | 'tlsTrustCertsFilePath' | 'tlsAllowInsecureConnection' | 'tlsHostnameVerification' | 'token' | 'tokenFile'> {
  const s = f.section;
  const text = (key: string, ok: (v: string) => boolean, expected: string): string => {
    const v = s[key];
    if (v === undefined || v === '') return '';
    if (typeof v !== 'string' || !ok(v)) f.refuse(key, expected);
    return v;
  };
  const o = {
    listenerName: text('listenerName', (v) => LISTENER_NAME.test(v), 'a listener name of the broker\'s advertisedListeners (letters, digits, . _ -), e.g. "external"'),
    tlsTrustCertsFilePath: text('tlsTrustCertsFilePath', (v) => readable(v)?.includes('-----BEGIN CERTIFICATE-----') === true, 'a readable PEM file of certificates (-----BEGIN CERTIFICATE-----)'),
    tlsAllowInsecureConnection: f.onOffWord('tlsAllowInsecureConnection', DEFAULT_OPTIONS.tlsAllowInsecureConnection),
    tlsHostnameVerification: f.onOffWord('tlsHostnameVerification', DEFAULT_OPTIONS.tlsHostnameVerification),
    token: text('token', (v) => TOKEN.test(v), 'a token without blanks (a JWT: header.payload.signature)'),
    tokenFile: text('tokenFile', (v) => TOKEN.test(readable(v)?.trim() ?? ''), 'a readable file holding one token'),
  };
  if (o.token && o.tokenFile) f.refuse('tokenFile', 'nothing when pulsar.token is set (one or the other)');
  return o;
}

function readable(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The token of `token` or `tokenFile` ('' = none). */
export function tokenOf(o: PulsarOptions): string {
  return o.token || (o.tokenFile ? (readable(o.tokenFile)?.trim() ?? '') : '');
}

/** `pulsar.broker`: a mapping of standalone.conf keys to scalars, none of them one busbench sets itself. */
function brokerSettings(raw: unknown, where: string): Record<string, ConfValue> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(where, 'pulsar.broker', 'a mapping of standalone.conf keys to values, e.g. { journalWriteBufferSizeKB: 256 }', raw);
  const settings: Record<string, ConfValue> = {};
  for (const [key, value] of Object.entries(raw)) {
    const problem = settingProblem(key, value);
    if (problem) throw new ConfigError(where, problem.field ? `pulsar.broker.${problem.field}` : 'pulsar.broker', problem.expected, problem.got);
    if (isConfValue(value)) settings[key] = value;
  }
  return settings;
}

/**
 * The Pulsar subscription type a run uses, `auto` resolved by the consumers one
 * subscription has: every topic has its own (consumer c reads topic c mod topics), so with
 * topics: 3 and 3 consumers each subscription has one, and exclusive it can be.
 */
export function resolveSubscriptionType(o: PulsarOptions, run: { consumers: number; topics?: number }, where: string): 'Exclusive' | 'Shared' | 'Failover' | 'Key_Shared' {
  const consumers = consumersOfTopic(0, run.consumers, run.topics ?? 1); // topic 0 has the most
  const t = o.subscriptionType === 'auto' ? (consumers > 1 ? 'shared' : 'exclusive') : o.subscriptionType;
  if (t === 'exclusive' && consumers > 1) {
    throw new ConfigError(where, 'pulsar.subscriptionType', `shared, key_shared or failover for ${consumers} consumers on a subscription (an exclusive subscription admits one)`, o.subscriptionType);
  }
  if (o.ackMode === 'cumulative' && (t === 'shared' || t === 'key_shared')) {
    throw new ConfigError(where, 'pulsar.ackMode', `"individual" with ${consumers} consumers on a subscription (subscriptionType auto means shared, which allows no cumulative acks; or set subscriptionType: failover)`, o.ackMode);
  }
  return t === 'exclusive' ? 'Exclusive' : t === 'shared' ? 'Shared' : t === 'failover' ? 'Failover' : 'Key_Shared';
}

/** The topic's partitions: the workload's where it has more than one, else pulsar.partitions (0: not partitioned). */
export function topicPartitions(o: PulsarOptions, workload: number | undefined): number {
  return (workload ?? 1) > 1 ? workload! : o.partitions;
}

/**
 * Refusals that need no broker: the harness asks before anything starts (exit 2), open()
 * again for callers that skip the plan.
 */
export function checkRun(o: PulsarOptions, run: RunShape, where: string): void {
  refuseTopicShape(run, where, 'pulsar');
  resolveSubscriptionType(o, run, where);
  if (o.topology === 'cluster' && run.brokers !== 'native') {
    throw new ConfigError(where, 'pulsar.topology', `"standalone" with --brokers ${run.brokers} (busbench runs the cluster itself only with --brokers native; docker-compose.yml has one under its cluster profile, started by hand)`, o.topology);
  }
  const nodes = o.topology === 'cluster' ? clusterNodeNames() : [];
  refuseFaultTarget(run, where, nodes, 'the standalone is one JVM; pulsar.topology cluster runs zk-1..3, bookie-1..3, broker-1..3', o.topology === 'cluster');
  if (o.adminUrl && run.brokers !== 'external') {
    throw new ConfigError(where, 'pulsar.adminUrl', `nothing with --brokers ${run.brokers} (busbench knows where its own broker listens)`, o.adminUrl);
  }
  if (run.brokers === 'compose' && o.journalSync === 'off') {
    throw new ConfigError(where, 'pulsar.journalSync', '"on" with --brokers compose (docker-compose.yml sets journalSyncData=true)', o.journalSync);
  }
  if (o.listenerName && run.brokers !== 'external') {
    throw new ConfigError(where, 'pulsar.listenerName', `nothing with --brokers ${run.brokers} (that broker advertises no named listeners)`, o.listenerName);
  }
  const tls = o.tlsTrustCertsFilePath ? 'tlsTrustCertsFilePath' : o.tlsAllowInsecureConnection === 'on' ? 'tlsAllowInsecureConnection' : o.tlsHostnameVerification === 'off' ? 'tlsHostnameVerification' : undefined;
  if (tls && run.brokers !== 'external') {
    throw new ConfigError(where, `pulsar.${tls}`, `nothing with --brokers ${run.brokers} (busbench reaches its own broker over plain TCP on 127.0.0.1)`, o[tls]);
  }
  if (run.keys && run.keys.distribution !== 'none' && o.transactions === 'on') {
    throw new ConfigError(where, 'keys', 'none with pulsar.transactions on (a transactional stage forwards to one partition, without keys)', run.keys.distribution);
  }
  const workload = run.partitions ?? 1;
  if (workload > 1 && o.partitions > 0 && o.partitions !== workload) {
    throw new ConfigError(where, 'pulsar.partitions', `${workload} or unset (the workload's partitions: ${workload} sets the topic's partitions)`, o.partitions);
  }
  if (o.broker && run.brokers !== 'native') {
    throw new ConfigError(where, 'pulsar.broker', `nothing with --brokers ${run.brokers} (that broker's configuration is not busbench's to write)`, o.broker);
  }
}
