/**
 * "service not restored" from the broker log: lines as Pulsar 4.0.8 (BookKeeper 4.17.2)
 * writes them to the console appender (log4j2 pattern "%d [%t] %-5level %logger{36} - %msg").
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findRecoveryFailure, serviceNotRestored } from '../../src/brokers/pulsar/recovery.ts';
import { pulsarDeployment } from '../../src/brokers/pulsar/deployment.ts';
import { clusterServiceProblem } from '../../src/brokers/pulsar/cluster.ts';

const TS = '2026-12-01T21:14:03,512+0000';
const ML = `${TS} [BookKeeperClientWorker-OrderedExecutor-0-0] ERROR org.apache.bookkeeper.mledger.impl.ManagedLedgerImpl - [busbench/t1/persistent/messages] Failed to open ledger 5: Error while recovering ledger`;
const CURSOR = `${TS} [bookkeeper-ml-scheduler-OrderedScheduler-0-0] WARN  org.apache.bookkeeper.mledger.impl.ManagedCursorImpl - [busbench/t1/persistent/messages] Error opening metadata ledger 12 for cursor busbench: Error while recovering ledger`;
const RECOVERY_READ = `${TS} [BookKeeperClientWorker-OrderedExecutor-0-0] ERROR org.apache.bookkeeper.client.LedgerRecoveryOp - Failure -5 while reading entries: (2657 - 2657), ledger: 5 while recovering ledger`;
const RECOVERY_WRITE = `${TS} [BookKeeperClientWorker-OrderedExecutor-0-0] ERROR org.apache.bookkeeper.client.LedgerRecoveryOp - Failure -8 while writing entry: 2657 while recovering ledger: 5`;
const LAST_ENTRY = `${TS} [BookKeeperClientWorker-OrderedExecutor-0-0] ERROR org.apache.bookkeeper.client.ReadLastConfirmedOp - Mac mismatch for ledger: 5, entry: -1 while reading last entry from bookie: 127.0.0.1:40321`;
const DIGEST = `${TS} [BookKeeperClientWorker-OrderedExecutor-0-0] ERROR org.apache.bookkeeper.proto.checksum.DigestManager - Digest mismatch for ledger-id: 5, entry-id: -1`;
const NOISE = [
  `${TS} [main] INFO  org.apache.bookkeeper.bookie.Journal - Recovering journal 19a4c3d2e10 from position 0`,
  `${TS} [pulsar-io-3-1] INFO  org.apache.pulsar.broker.service.ServerCnx - [/127.0.0.1:51234] Subscribing on topic persistent://busbench/t1/messages / busbench`,
  `${TS} [main] INFO  org.apache.bookkeeper.mledger.impl.ManagedLedgerImpl - [busbench/t1/persistent/messages] Opened ledger 7`,
  'org.apache.bookkeeper.client.BKException$BKLedgerRecoveryException: Error while recovering ledger',
  '\tat org.apache.bookkeeper.client.BKException.create(BKException.java:102) ~[org.apache.bookkeeper-bookkeeper-server-4.17.2.jar:4.17.2]',
].join('\n');

describe('ledger recovery failures in the broker log', () => {
  it('finds nothing in a log of a normal start, nor in a stack trace without a ledger id', () => {
    expect(findRecoveryFailure(NOISE)).toBeUndefined();
    expect(serviceNotRestored('')).toBeUndefined();
  });

  it('reads the ledger from each message format', () => {
    for (const [line, ledger] of [[ML, 5], [CURSOR, 12], [RECOVERY_READ, 5], [RECOVERY_WRITE, 5], [LAST_ENTRY, 5], [DIGEST, 5]] as const) {
      expect(findRecoveryFailure(`${NOISE}\n${line}\n${NOISE}`)).toEqual({ ledger, line });
    }
    expect(findRecoveryFailure(DIGEST.replace('Digest', 'Mac'))?.ledger).toBe(5);
  });

  it("prefers the managed ledger's verdict to the digest mismatch that caused it, whatever their order", () => {
    const log = [NOISE, DIGEST.replace(': 5', ': 3'), LAST_ENTRY, RECOVERY_READ, ML.replace('ledger 5', 'ledger 9'), NOISE].join('\n');
    expect(findRecoveryFailure(log)).toEqual({ ledger: 9, line: ML.replace('ledger 5', 'ledger 9') });
    expect(findRecoveryFailure([DIGEST.replace(': 5', ': 3'), LAST_ENTRY].join('\n'))?.ledger).toBe(5);
  });

  it('says "service not restored" with the line, trimmed to 300 characters', () => {
    expect(serviceNotRestored(`${NOISE}\n  ${LAST_ENTRY}\r\n`)).toBe(`service not restored: ledger 5 could not be recovered (${LAST_ENTRY})`);
    const long = `${ML} ${'x'.repeat(500)}`;
    const said = serviceNotRestored(long) ?? '';
    expect(said).toBe(`service not restored: ledger 5 could not be recovered (${long.slice(0, 300)}…)`);
  });
});

describe('NativePulsar.serviceProblem', () => {
  it('reads the log the standalone wrote since its last start, and nothing before it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-recovery-'));
    try {
      const broker = pulsarDeployment('native', { dir });
      expect(broker.serviceProblem()).toBeUndefined(); // no log yet
      fs.mkdirSync(path.join(dir, 'logs'));
      fs.writeFileSync(path.join(dir, 'logs', 'pulsar.log'), `${NOISE}\n${ML}\n`);
      expect(broker.serviceProblem()).toMatch(/^service not restored: ledger 5 could not be recovered \(.*Failed to open ledger 5/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('clusterServiceProblem', () => {
  // broker-3 of a kill-majority run (2026-12-02 16:30 UTC): it took over broker-1's topic
  // while bookie-1 and bookie-2 were down, and could not recover its open ledger until
  // they were back (registered at 16:30:56 and 16:31:00.3); the topic loaded at 16:31:02
  const OUTAGE = [
    '2026-12-02T16:30:53,580+0000 [BookKeeperClientWorker-OrderedExecutor-1-0] ERROR org.apache.bookkeeper.client.ReadLastConfirmedOp - While readLastConfirmed ledger: 15 did not hear success responses from all quorums, QuorumCoverage(e:3,w:3,a:2) = [-8, -8, 0]',
    '2026-12-02T16:30:53,592+0000 [BookKeeperClientWorker-OrderedExecutor-0-0] ERROR org.apache.bookkeeper.mledger.impl.ManagedLedgerImpl - [busbench/2026-12-02T162835Z-cluster-faults-pulsar-0/persistent/messages] Failed to open ledger 15: Error while recovering ledger',
    '2026-12-02T16:31:02,205+0000 [BookKeeperClientWorker-OrderedExecutor-0-0] INFO  org.apache.bookkeeper.mledger.impl.ManagedLedgerFactoryImpl - [busbench/2026-12-02T162835Z-cluster-faults-pulsar-0/persistent/messages] Successfully initialize managed ledger',
  ].join('\n');

  it('judges each node by its log from where it stood when the bookies were back, not by the outage before', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-cluster-recovery-'));
    try {
      const logFile = path.join(dir, 'broker-3.log');
      fs.writeFileSync(logFile, `${OUTAGE}\n`);
      const restoredFrom = fs.statSync(logFile).size;
      fs.appendFileSync(logFile, `${NOISE}\n`);
      expect(clusterServiceProblem([{ name: 'broker-3', logFile, from: restoredFrom }])).toBeUndefined();
      // the node's whole log, as it was judged before: the outage read as a lost ledger
      expect(clusterServiceProblem([{ name: 'broker-3', logFile, from: 0 }])).toMatch(/^service not restored: ledger 15 could not be recovered \(.*Failed to open ledger 15.*\) \[broker-3\]$/);
      // a ledger still lost once the bookies are back fails on the next load: reported
      fs.appendFileSync(logFile, `${ML}\n`);
      expect(clusterServiceProblem([{ name: 'broker-1', logFile: path.join(dir, 'none.log'), from: 0 }, { name: 'broker-3', logFile, from: restoredFrom }])).toMatch(/ledger 5 could not be recovered .*\[broker-3\]$/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
