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
function loopbackInterface(): string {
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    if (addrs?.some((a) => a.internal && a.address === '127.0.0.1')) return name;
  }
  return 'lo';
}
