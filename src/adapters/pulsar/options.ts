/**
 * The `pulsar:` section of a scenario. Every field is optional; the defaults are the
 * Java client's (batches of up to 1000 messages / 128 KiB, sent after at most 1 ms) and
 * a broker that keeps its promises (journal fsync, deduplication on).
 */
import { ConfigError } from '../../core/errors.ts';

export type OnOff = 'on' | 'off';
export type SubscriptionType = 'auto' | 'exclusive' | 'shared' | 'failover' | 'key_shared';
export type AckMode = 'individual' | 'cumulative';

export interface PulsarOptions {
  /** batch messages into entries (one broker write, one receipt per batch) */
  batching: OnOff;
  batchMaxMessages: number;
  /** longest a message waits for its batch to fill */
  batchMaxDelayMs: number;
  batchMaxBytes: number;
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
}

export const DEFAULT_OPTIONS: PulsarOptions = {
  batching: 'on',
  batchMaxMessages: 1000,
  batchMaxDelayMs: 1,
  batchMaxBytes: 128 * 1024,
  subscriptionType: 'auto',
  ackMode: 'individual',
  journalSync: 'on',
  partitions: 0,
  dedup: 'on',
  receiverQueueSize: 1000,
  sendTimeoutMs: 60_000,
  adminUrl: '',
  readBack: 'on',
  transactions: 'off',
  txnTimeoutMs: 10_000,
};

const KEYS = Object.keys(DEFAULT_OPTIONS) as (keyof PulsarOptions)[];
const SUB_TYPES: readonly SubscriptionType[] = ['auto', 'exclusive', 'shared', 'failover', 'key_shared'];
const ACK_MODES: readonly AckMode[] = ['individual', 'cumulative'];
const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1 << 20, mb: 1 << 20, mib: 1 << 20 };
/** The broker's default maxMessageSize (5 MiB) less room for framing. */
const MAX_BATCH_BYTES = 5 * 1024 * 1024 - 64 * 1024;

function onOff(section: Record<string, unknown>, key: keyof PulsarOptions, where: string): OnOff | undefined {
  const raw = section[key];
  // YAML 1.1 readers turn on/off into booleans; accept both flavours.
  const v = raw === true ? 'on' : raw === false ? 'off' : raw;
  if (v === undefined) return undefined;
  if (v !== 'on' && v !== 'off') throw new ConfigError(where, `pulsar.${key}`, '"on" or "off"', raw);
  return v;
}

function integer(section: Record<string, unknown>, key: keyof PulsarOptions, where: string, min: number, max: number): number | undefined {
  const v = section[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigError(where, `pulsar.${key}`, `an integer from ${min} to ${max}`, v);
  return v;
}

function bytes(section: Record<string, unknown>, key: keyof PulsarOptions, where: string): number | undefined {
  const v = section[key];
  if (v === undefined) return undefined;
  let n: number | undefined;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string') {
    const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(v);
    const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
    if (m && unit !== undefined) n = Number(m[1]) * unit;
  }
  if (n === undefined || !Number.isInteger(n) || n < 1024 || n > MAX_BATCH_BYTES) {
    throw new ConfigError(where, `pulsar.${key}`, `bytes from 1KiB to ${MAX_BATCH_BYTES} (a number, or e.g. "128KiB")`, v);
  }
  return n;
}

function oneOf<T extends string>(section: Record<string, unknown>, key: keyof PulsarOptions, where: string, values: readonly T[]): T | undefined {
  const v = section[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw new ConfigError(where, `pulsar.${key}`, `one of ${values.join(', ')}`, v);
  return v as T;
}

export function parsePulsarOptions(raw: unknown, where: string): PulsarOptions {
  if (raw === undefined || raw === null) return { ...DEFAULT_OPTIONS };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(where, 'pulsar', 'a mapping of Pulsar options', raw);
  const section = raw as Record<string, unknown>;
  for (const key of Object.keys(section)) {
    if (!(KEYS as string[]).includes(key)) throw new ConfigError(where, `pulsar.${key}`, `one of the fields ${KEYS.join(', ')}`, key);
  }
  const o: PulsarOptions = {
    batching: onOff(section, 'batching', where) ?? DEFAULT_OPTIONS.batching,
    batchMaxMessages: integer(section, 'batchMaxMessages', where, 1, 100_000) ?? DEFAULT_OPTIONS.batchMaxMessages,
    batchMaxDelayMs: integer(section, 'batchMaxDelayMs', where, 0, 10_000) ?? DEFAULT_OPTIONS.batchMaxDelayMs,
    batchMaxBytes: bytes(section, 'batchMaxBytes', where) ?? DEFAULT_OPTIONS.batchMaxBytes,
    subscriptionType: oneOf(section, 'subscriptionType', where, SUB_TYPES) ?? DEFAULT_OPTIONS.subscriptionType,
    ackMode: oneOf(section, 'ackMode', where, ACK_MODES) ?? DEFAULT_OPTIONS.ackMode,
    journalSync: onOff(section, 'journalSync', where) ?? DEFAULT_OPTIONS.journalSync,
    partitions: integer(section, 'partitions', where, 0, 256) ?? DEFAULT_OPTIONS.partitions,
    dedup: onOff(section, 'dedup', where) ?? DEFAULT_OPTIONS.dedup,
    receiverQueueSize: integer(section, 'receiverQueueSize', where, 1, 1_000_000) ?? DEFAULT_OPTIONS.receiverQueueSize,
    sendTimeoutMs: integer(section, 'sendTimeoutMs', where, 0, 3_600_000) ?? DEFAULT_OPTIONS.sendTimeoutMs,
    adminUrl: DEFAULT_OPTIONS.adminUrl,
    readBack: onOff(section, 'readBack', where) ?? DEFAULT_OPTIONS.readBack,
    transactions: onOff(section, 'transactions', where) ?? DEFAULT_OPTIONS.transactions,
    txnTimeoutMs: integer(section, 'txnTimeoutMs', where, 100, 3_600_000) ?? DEFAULT_OPTIONS.txnTimeoutMs,
  };
  // '' (the default) is accepted too: parsing an already parsed section must give it back.
  if (section.adminUrl !== undefined && section.adminUrl !== '') {
    if (typeof section.adminUrl !== 'string' || !/^https?:\/\/[^/\s]+\/?$/.test(section.adminUrl)) throw new ConfigError(where, 'pulsar.adminUrl', 'an http(s) URL such as "http://127.0.0.1:8080"', section.adminUrl);
    o.adminUrl = section.adminUrl.replace(/\/$/, '');
  }
  if (o.ackMode === 'cumulative' && (o.subscriptionType === 'shared' || o.subscriptionType === 'key_shared')) {
    throw new ConfigError(where, 'pulsar.ackMode', `"individual" with a ${o.subscriptionType} subscription (Pulsar allows cumulative acks only on exclusive and failover ones)`, o.ackMode);
  }
  return o;
}

/** The Pulsar subscription type a run uses, `auto` resolved by the number of consumers. */
export function resolveSubscriptionType(o: PulsarOptions, consumers: number, where: string): 'Exclusive' | 'Shared' | 'Failover' | 'Key_Shared' {
  const t = o.subscriptionType === 'auto' ? (consumers > 1 ? 'shared' : 'exclusive') : o.subscriptionType;
  if (t === 'exclusive' && consumers > 1) {
    throw new ConfigError(where, 'pulsar.subscriptionType', `shared, key_shared or failover for ${consumers} consumers (an exclusive subscription admits one)`, o.subscriptionType);
  }
  if (o.ackMode === 'cumulative' && (t === 'shared' || t === 'key_shared')) {
    throw new ConfigError(where, 'pulsar.ackMode', `"individual" with ${consumers} consumers (subscriptionType auto means shared, which allows no cumulative acks; or set subscriptionType: failover)`, o.ackMode);
  }
  return t === 'exclusive' ? 'Exclusive' : t === 'shared' ? 'Shared' : t === 'failover' ? 'Failover' : 'Key_Shared';
}
