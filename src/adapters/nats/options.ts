/** The `nats:` section of a scenario: the server and stream settings engineers compare. */
import { ConfigError } from '../../core/errors.ts';
import { parseDurationMs } from '../../core/units.ts';

export interface NatsOptions {
  /** jetstream (streams, acks) or core NATS (plain pub/sub, no persistence) */
  mode: 'jetstream' | 'core';
  storage: 'file' | 'memory';
  topology: 'single' | 'cluster3';
  replicas: 1 | 3;
  /** server-wide JetStream sync_interval: "default", "always" or a duration */
  syncInterval: string;
  maxAckPending: number;
  /** stream duplicate window, ms */
  duplicateWindowMs: number;
  maxMsgs: number;
  maxBytes: number;
  ackPolicy: 'explicit' | 'none';
  /** fast: core publishes with reply subjects on one wildcard inbox; js: js.publish() */
  publish: 'fast' | 'js';
  /** set Nats-Msg-Id "<producer>-<seq>" so the stream drops re-sent messages */
  msgId: boolean;
  /** how long a publish may wait for its ack before it counts as unknown, ms */
  ackTimeoutMs: number;
}

const KEYS = ['mode', 'storage', 'topology', 'replicas', 'syncInterval', 'maxAckPending', 'duplicateWindow', 'maxMsgs', 'maxBytes', 'ackPolicy', 'publish', 'msgId', 'ackTimeout'];

function oneOf<T extends string>(where: string, field: string, v: unknown, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !allowed.includes(v as T)) throw new ConfigError(where, `nats.${field}`, allowed.map((a) => `"${a}"`).join(' or '), v);
  return v as T;
}

function onOff(where: string, field: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (v === 'on' || v === true) return true;
  if (v === 'off' || v === false) return false;
  throw new ConfigError(where, `nats.${field}`, '"on" or "off"', v);
}

function intIn(where: string, field: string, v: unknown, min: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new ConfigError(where, `nats.${field}`, `an integer >= ${min}`, v);
  return v;
}

function durationMs(where: string, field: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  const ms = parseDurationMs(v);
  if (ms === undefined || ms <= 0) throw new ConfigError(where, `nats.${field}`, 'a duration such as "100ms", "10s", "2m"', v);
  return ms;
}

export function parseNatsOptions(raw: unknown, where: string): NatsOptions {
  const section = (raw ?? {}) as Record<string, unknown>;
  if (typeof section !== 'object' || Array.isArray(section)) throw new ConfigError(where, 'nats', 'a mapping of NATS options', raw);
  for (const key of Object.keys(section)) if (!KEYS.includes(key)) throw new ConfigError(where, `nats.${key}`, `one of the fields ${KEYS.join(', ')}`, key);

  const replicasRaw = section.replicas ?? 1;
  if (replicasRaw !== 1 && replicasRaw !== 3) throw new ConfigError(where, 'nats.replicas', '1 or 3', replicasRaw);
  const replicas = replicasRaw as 1 | 3;
  const topology = oneOf(where, 'topology', section.topology, ['single', 'cluster3'] as const, replicas === 3 ? 'cluster3' : 'single');
  if (replicas === 3 && topology !== 'cluster3') throw new ConfigError(where, 'nats.replicas', '1 on a single server (3 needs topology "cluster3")', replicas);

  const sync = section.syncInterval ?? 'default';
  if (typeof sync !== 'string' || (sync !== 'default' && sync !== 'always' && !/^\d+(\.\d+)?(ms|s|m|h)$/.test(sync))) {
    throw new ConfigError(where, 'nats.syncInterval', '"default", "always" or a duration such as "100ms"', sync);
  }
  return {
    mode: oneOf(where, 'mode', section.mode, ['jetstream', 'core'] as const, 'jetstream'),
    storage: oneOf(where, 'storage', section.storage, ['file', 'memory'] as const, 'file'),
    topology,
    replicas,
    syncInterval: sync,
    maxAckPending: intIn(where, 'maxAckPending', section.maxAckPending, 1, 20_000),
    duplicateWindowMs: durationMs(where, 'duplicateWindow', section.duplicateWindow, 120_000),
    maxMsgs: intIn(where, 'maxMsgs', section.maxMsgs, -1, -1),
    maxBytes: intIn(where, 'maxBytes', section.maxBytes, -1, -1),
    ackPolicy: oneOf(where, 'ackPolicy', section.ackPolicy, ['explicit', 'none'] as const, 'explicit'),
    publish: oneOf(where, 'publish', section.publish, ['fast', 'js'] as const, 'fast'),
    msgId: onOff(where, 'msgId', section.msgId, false),
    ackTimeoutMs: durationMs(where, 'ackTimeout', section.ackTimeout, 10_000),
  };
}
