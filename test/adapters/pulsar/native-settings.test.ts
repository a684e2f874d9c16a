/**
 * A native run's Pulsar settings and journal, on the real standalone: one session opened
 * in native mode with `pulsar.broker` settings and transactions off, restarted once
 * (graceful: a kill -9 is another test's business), closed, and its bookie journals read
 * back by the journal check.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapter } from '../../../src/adapters/pulsar/index.ts';
import type { PulsarInit } from '../../../src/adapters/pulsar/init.ts';
import type { PulsarOptions } from '../../../src/adapters/pulsar/options.ts';
import type { OpenContext, SystemSession } from '../../../src/core/contract.ts';
import { journalFiles, scanJournalFile } from '../../../src/brokers/pulsar/journal.ts';
import { produceViaRest } from '../../pulsar-broker/helpers.ts';

const START_MS = 240_000;
let dir: string;
let session: SystemSession<PulsarInit> | undefined;
let closed = false;

const options = adapter.parseOptions({ dedup: 'off', transactions: 'off', broker: { managedLedgerMaxEntriesPerLedger: 50, journalWriteBufferSizeKB: 256 } }, 'native-settings.test.ts');

function context(): OpenContext<PulsarOptions> {
  return { runId: `settings${Date.now()}`, runDir: dir, producers: 1, consumers: 1, messageSize: 64, maxInFlight: 10, brokers: 'native', externalUrls: {}, options, log: () => undefined };
}

async function runtimeConfig(adminUrl: string): Promise<Record<string, string>> {
  const res = await fetch(`${adminUrl}/admin/v2/brokers/configuration/runtime`);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, string>;
}

const logFile = (): string => path.join(dir, 'pulsar', 'logs', 'pulsar.log');

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-pulsar-settings-'));
  session = await adapter.open(context());
}, START_MS);

afterAll(async () => {
  if (!closed) await session?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a native Pulsar run with pulsar.broker settings', () => {
  it('hands the settings to the broker, with no transaction coordinator when transactions are off', async () => {
    const s = session!;
    const runtime = await runtimeConfig(s.workerInit.adminUrl);
    expect(runtime.managedLedgerMaxEntriesPerLedger).toBe('50');
    expect(runtime.transactionCoordinatorEnabled).toBe('false');
    const conf = fs.readFileSync(path.join(dir, 'pulsar', 'conf', 'standalone.conf'), 'utf8');
    expect(conf).toMatch(/^journalWriteBufferSizeKB=256$/m); // a bookie setting: not in the broker's runtime configuration
    expect(conf).toMatch(/^transactionCoordinatorEnabled=false$/m);
    expect(s.config.broker).toMatchObject({
      transactions: false,
      configOverrides: { managedLedgerMaxEntriesPerLedger: 50, journalWriteBufferSizeKB: 256 },
      standaloneConf: { managedLedgerMaxEntriesPerLedger: 50, journalWriteBufferSizeKB: 256, transactionCoordinatorEnabled: false, journalSyncData: true, brokerDeduplicationEnabled: false },
    });
  });

  it('reports a ledger-recovery failure from the log written since the last start only', async () => {
    const faults = session!.faults!;
    await produceViaRest(session!.workerInit.adminUrl, session!.workerInit.topic, Array.from({ length: 40 }, (_, i) => `before-${i}`));
    expect(faults.serviceProblem?.()).toBeUndefined();
    const line = '2026-12-01T21:14:03,512+0000 [BookKeeperClientWorker-OrderedExecutor-0-0] ERROR org.apache.bookkeeper.mledger.impl.ManagedLedgerImpl - [busbench/x/persistent/messages] Failed to open ledger 5: Error while recovering ledger';
    fs.appendFileSync(logFile(), `${line}\n`);
    expect(faults.serviceProblem?.()).toBe(`service not restored: ledger 5 could not be recovered (${line})`);
    await faults.restart();
    expect(fs.readFileSync(logFile(), 'utf8')).toContain(line); // still in the file, before this start
    expect(faults.serviceProblem?.()).toBeUndefined();
    await produceViaRest(session!.workerInit.adminUrl, session!.workerInit.topic, Array.from({ length: 10 }, (_, i) => `after-${i}`));
  }, START_MS);

  it('leaves bookie journals the check reads as complete after a graceful stop', async () => {
    await session!.close();
    closed = true;
    const files = journalFiles(path.join(dir, 'pulsar'));
    expect(files.length).toBeGreaterThanOrEqual(2); // one per bookie start
    expect(files.every((f) => f.includes(path.join('data', 'bookkeeper', 'current') + path.sep))).toBe(true);
    for (const f of files) {
      const scan = scanJournalFile(f);
      expect(scan).toMatchObject({ version: 6, stop: 'zero length', torn: [] });
      expect(scan.records.length).toBeGreaterThan(0);
      expect(scan.records.every((r) => r.ledger > 0)).toBe(true);
    }
    const out = execFileSync('npx', ['tsx', 'bench/bookie-journal.ts', dir], { encoding: 'utf8' });
    console.log(out);
    expect(out.trim().split('\n')).toHaveLength(files.length);
    for (const l of out.trim().split('\n')) expect(l).toMatch(/: journal V6, [\d,]+ records?, last record ledger \d+ entry -?\d+ of [\d,]+ bytes at file offset [\d,]+, last record complete$/);
  }, 120_000);
});
