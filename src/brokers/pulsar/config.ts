/**
 * The configuration file a native Pulsar standalone runs with: the distribution's own
 * conf/standalone.conf (its defaults suit one bookie: ensemble and quorums of 1), with
 * our settings written over it. The shipped file is never modified.
 */
import os from 'node:os';

export type ConfValue = string | number | boolean;

export interface StandaloneSettings {
  brokerPort: number;
  webPort: number;
  /** BookKeeper journalSyncData: fsync the journal before acknowledging an entry */
  journalSync: boolean;
  deduplication: boolean;
  transactions: boolean;
  /** where the broker unpacks NAR plugins (default /tmp) */
  narDir: string;
}

/** Our settings, before the user's `config` overrides. */
export function standaloneSettings(s: StandaloneSettings): Record<string, ConfValue> {
  return {
    bindAddress: '127.0.0.1',
    advertisedAddress: '127.0.0.1',
    brokerServicePort: s.brokerPort,
    webServicePort: s.webPort,
    // The bookie reads this same file. Without an interface it listens on 0.0.0.0;
    // with one it binds the advertised address (127.0.0.1).
    listeningInterface: loopbackInterface(),
    allowLoopback: true,
    // Otherwise the embedded bookie ignores --bookkeeper-port and takes a random port.
    allowEphemeralPorts: true,
    journalSyncData: s.journalSync,
    brokerDeduplicationEnabled: s.deduplication,
    transactionCoordinatorEnabled: s.transactions,
    // Transaction buffer snapshots and topic policies live in system topics.
    systemTopicEnabled: true,
    narExtractionDirectory: s.narDir,
  };
}

/**
 * Keys a scenario's `pulsar.broker` may not set, with what to use instead: busbench writes
 * them itself (from another option, or to keep the broker on loopback, on free ports and
 * inside the run folder), and a second value would silently undo that.
 */
export const RESERVED_SETTINGS: Readonly<Record<string, string>> = {
  journalSyncData: 'pulsar.journalSync',
  brokerDeduplicationEnabled: 'pulsar.dedup',
  transactionCoordinatorEnabled: 'pulsar.transactions',
  systemTopicEnabled: 'pulsar.transactions (transactions need system topics, so busbench keeps them on)',
  brokerServicePort: 'nothing: busbench picks a free port',
  webServicePort: 'nothing: busbench picks a free port',
  bookiePort: 'nothing: busbench picks a free port',
  bindAddress: 'nothing: busbench binds 127.0.0.1',
  bindAddresses: 'nothing: busbench binds 127.0.0.1',
  advertisedAddress: 'nothing: busbench binds 127.0.0.1',
  advertisedListeners: 'nothing: busbench binds 127.0.0.1',
  listeningInterface: 'nothing: busbench binds the loopback interface',
  allowLoopback: 'nothing: busbench binds the loopback interface',
  allowEphemeralPorts: 'nothing: busbench picks a free port',
  narExtractionDirectory: 'nothing: busbench keeps it in the run folder',
  journalDirectory: 'nothing: busbench keeps the data in the run folder',
  journalDirectories: 'nothing: busbench keeps the data in the run folder',
  ledgerDirectories: 'nothing: busbench keeps the data in the run folder',
  metadataStoreUrl: 'nothing: busbench keeps the metadata in the run folder',
  configurationMetadataStoreUrl: 'nothing: busbench runs the metadata store',
  metadataServiceUri: 'nothing: busbench runs the metadata store',
  zkServers: 'nothing: busbench runs the metadata store',
  clusterName: 'nothing: busbench names the cluster',
  prometheusStatsHttpPort: 'nothing: busbench picks a free port',
  managedLedgerDefaultEnsembleSize: 'pulsar.ensembleSize',
  managedLedgerDefaultWriteQuorum: 'pulsar.writeQuorum',
  managedLedgerDefaultAckQuorum: 'pulsar.ackQuorum',
};

const SETTING_KEY = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/** A value standalone.conf can hold on one line. */
export function isConfValue(v: unknown): v is ConfValue {
  // A line break would smuggle a second setting into the file past the key checks.
  return typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && !/[\r\n]/.test(v));
}

/** Why `key = value` cannot go into standalone.conf (field '' = the key itself), or undefined when it can. */
export function settingProblem(key: string, value: unknown): { field: string; expected: string; got: unknown } | undefined {
  if (!SETTING_KEY.test(key)) return { field: '', expected: 'standalone.conf keys (a letter, then letters, digits, _ . -)', got: key };
  const instead = RESERVED_SETTINGS[key];
  if (instead !== undefined) return { field: key, expected: `no ${key} here (busbench sets it; use ${instead})`, got: value };
  if (!isConfValue(value)) return { field: key, expected: 'a string (one line), number or boolean', got: value };
  return undefined;
}

/**
 * Returns `shipped` with each key of `overrides` set: replaced on its own line when the
 * file has it, appended otherwise. In place rather than appended because the bookie reads
 * the file with commons-configuration, where a repeated key becomes a list whose first
 * value wins, while the broker's loader takes the last one.
 */
export function mergeProperties(shipped: string, overrides: Record<string, ConfValue>): string {
  const pending = new Map(Object.entries(overrides).map(([k, v]) => [k, String(v)]));
  const lines = shipped.split('\n').map((line) => {
    const key = /^\s*([A-Za-z0-9_.-]+)\s*[=:]/.exec(line)?.[1];
    if (key === undefined || !pending.has(key)) return line;
    const value = pending.get(key);
    pending.delete(key);
    return `${key}=${value}`;
  });
  if (pending.size > 0) {
    lines.push('', '### busbench settings absent from the shipped file');
    for (const [k, v] of pending) lines.push(`${k}=${v}`);
  }
  return lines.join('\n').trimEnd() + '\n';
}

/** Name of the loopback interface ("lo" on Linux, "lo0" on macOS). */
export function loopbackInterface(): string {
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    if (addrs?.some((a) => a.internal && a.address === '127.0.0.1')) return name;
  }
  return 'lo';
}
