/** The pieces around the Pulsar broker that need no running broker. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeProperties, standaloneSettings } from '../../src/brokers/pulsar/config.ts';
import { findPulsarJava, inspectJava, majorOf } from '../../src/brokers/pulsar/java.ts';
import { parseTopic } from '../../src/brokers/pulsar/admin.ts';
import { defaultAdminUrl } from '../../src/brokers/pulsar/external.ts';
import { pulsarDeployment } from '../../src/brokers/pulsar/deployment.ts';
import { BusbenchError } from '../../src/core/errors.ts';

describe('standalone.conf merge', () => {
  const shipped = ['# comment', 'brokerServicePort=6650', '#journalSyncData=true', 'journalSyncData=false', 'clusterName=standalone', ''].join('\n');

  it('replaces keys in place, appends missing ones, keeps comments and every other line', () => {
    const out = mergeProperties(shipped, { journalSyncData: true, brokerServicePort: 7000, listeningInterface: 'lo' });
    const lines = out.trimEnd().split('\n');
    expect(lines.slice(0, 5)).toEqual(['# comment', 'brokerServicePort=7000', '#journalSyncData=true', 'journalSyncData=true', 'clusterName=standalone']);
    expect(lines.at(-1)).toBe('listeningInterface=lo');
    // each key exactly once: BookKeeper would take the first of a repeated key
    expect(lines.filter((l) => l.startsWith('journalSyncData=')).length).toBe(1);
  });

  it('turns the fsync knob into journalSyncData and binds everything to loopback', () => {
    const s = standaloneSettings({ brokerPort: 1, webPort: 2, journalSync: false, deduplication: true, transactions: false, narDir: '/x' });
    expect(s).toMatchObject({ journalSyncData: false, bindAddress: '127.0.0.1', advertisedAddress: '127.0.0.1', transactionCoordinatorEnabled: false });
    expect(typeof s.listeningInterface).toBe('string');
  });
});

describe('JDK choice', () => {
  it('reads major versions of old and new schemes', () => {
    expect(majorOf('1.8.0_392')).toBe(8);
    expect(majorOf('17.0.15')).toBe(17);
    expect(majorOf('25')).toBe(25);
    expect(majorOf('garbage')).toBe(0);
  });

  it('picks a JDK >= 21 and refuses a folder that is not a JDK', () => {
    expect(findPulsarJava().major).toBeGreaterThanOrEqual(21);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-nojdk-'));
    try {
      expect(inspectJava(empty)).toBeNull();
      expect(() => findPulsarJava(empty)).toThrow(/not a JDK/);
    } finally {
      fs.rmSync(empty, { recursive: true });
    }
  });
});

describe('names and URLs', () => {
  it('parses topic names with and without the domain', () => {
    expect(parseTopic('persistent://t/ns/x')).toEqual({ domain: 'persistent', tenant: 't', namespace: 'ns', local: 'x' });
    expect(parseTopic('t/ns/x').domain).toBe('persistent');
    expect(() => parseTopic('x')).toThrow(BusbenchError);
  });

  it('derives the admin URL of an external broker', () => {
    expect(defaultAdminUrl('pulsar://10.0.0.5:6650')).toBe('http://10.0.0.5:8080');
    expect(defaultAdminUrl('pulsar+ssl://h:6651')).toBe('https://h:8443');
  });
});

describe('compose deployment', () => {
  it('uses the ports of docker-compose.yml and fails with a BROKER error when compose cannot run', async () => {
    const d = pulsarDeployment('compose', { composeFile: path.join(os.tmpdir(), 'busbench-no-such-compose.yml') });
    expect(d.urls()).toEqual(['pulsar://127.0.0.1:6650']);
    expect(d.adminUrl()).toBe('http://127.0.0.1:8080');
    await expect(d.start()).rejects.toMatchObject({ code: 'BROKER', message: expect.stringMatching(/docker compose up -d pulsar failed/) });
  });
});

describe('external deployment', () => {
  it('refuses kill and restart with a BROKER error, and reports its URLs', async () => {
    const d = pulsarDeployment('external', { serviceUrl: 'pulsar://127.0.0.1:1', adminUrl: 'http://127.0.0.1:1' });
    expect(d.urls()).toEqual(['pulsar://127.0.0.1:1']);
    expect(d.adminUrl()).toBe('http://127.0.0.1:1');
    await expect(d.kill()).rejects.toMatchObject({ code: 'BROKER', message: expect.stringMatching(/external/) });
    await expect(d.restart()).rejects.toMatchObject({ code: 'BROKER' });
  });

  it('fails start with the reason when nothing answers', async () => {
    const d = pulsarDeployment('external', { serviceUrl: 'pulsar://127.0.0.1:1', adminUrl: 'http://127.0.0.1:1', startTimeoutMs: 300 });
    await expect(d.start()).rejects.toThrow(/not ready after .*admin API not answering/);
  });
});
