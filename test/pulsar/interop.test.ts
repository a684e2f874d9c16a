/**
 * Interop with Apache's own Java client, on one native standalone: what busbench's wire
 * client writes in batches, the distribution's `bin/pulsar-client` reads back message by
 * message (count and content); what `bin/pulsar-perf produce` writes in batches, the wire
 * consumer reads back (count). Each side also asks the broker: the topic's entries must
 * be fewer than its messages (batches really were written), and its in-counter must equal
 * the messages sent (nothing extra stored, nothing missed by the count).
 *
 * A JVM tool takes 5-8 s to start on two busy cores (measured: pulsar-client consuming
 * 100 messages, 7.3 s end to end); each is given TOOL_TIMEOUT_MS and killed past it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pulsarDeployment } from '../../src/brokers/pulsar/deployment.ts';
import type { NativePulsar } from '../../src/brokers/pulsar/native.ts';
import { PulsarAdmin } from '../../src/brokers/pulsar/admin.ts';
import { ensurePulsar, type PulsarInstall } from '../../src/brokers/pulsar/install.ts';
import { finishPulsarTool, killPulsarTool, startPulsarTool, type ToolRun } from '../../src/brokers/pulsar/tools.ts';
import { PulsarClient } from '../../src/adapters/pulsar/wire/index.ts';

const TOOL_TIMEOUT_MS = 120_000;
const N = 5_000;

let broker: NativePulsar;
let install: PulsarInstall;
let admin: PulsarAdmin;
let dir: string;
let run = 0;
const tools: ToolRun[] = [];
const clients: PulsarClient[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-pulsar-interop-'));
  install = await ensurePulsar(() => undefined);
  broker = pulsarDeployment('native', { dir: path.join(dir, 'broker'), transactions: false });
  await broker.start();
  admin = new PulsarAdmin(broker.adminUrl());
});

afterEach(async () => {
  // a failed assertion must not leave a JVM behind
  for (const t of tools.splice(0)) await killPulsarTool(t);
  for (const c of clients.splice(0)) await c.close();
});

afterAll(async () => {
  await broker?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function tool(name: 'pulsar-perf' | 'pulsar-client', args: string[]): ToolRun {
  const t = startPulsarTool(install, name, args, path.join(dir, `${name}-${run++}.log`));
  tools.push(t);
  return t;
}

function client(): PulsarClient {
  const c = new PulsarClient({ serviceUrl: broker.urls()[0]!, log: () => undefined });
  clients.push(c);
  return c;
}

const topicName = (what: string): string => `persistent://public/default/interop-${what}-${Date.now()}-${run++}`;

/** Entries the topic's managed ledger holds (a batch is one entry). */
async function storedEntries(topic: string): Promise<number> {
  const stats = (await admin.call('GET', `/admin/v2/persistent/${topic.slice('persistent://'.length)}/internalStats`)) as { numberOfEntries?: number };
  return stats.numberOfEntries ?? -1;
}

describe('pulsar interop with the Java client of the distribution', () => {
  it("pulsar-client consume reads every message busbench's client wrote in batches, in order, content intact", async () => {
    const topic = topicName('wire-to-java');
    const sent = Array.from({ length: N }, (_, i) => `busbench-interop-${i}`);
    // Subscribes at the earliest position, so it may start before or after the producer.
    const consumer = tool('pulsar-client', ['--url', broker.urls()[0]!, 'consume', '-s', 'java', '-p', 'Earliest', '-n', String(N), topic]);
    const producer = await client().createProducer({ topic, batching: true, batchMaxMessages: 1000, batchMaxDelayMs: 10, maxPendingMessages: N });
    const enc = new TextEncoder();
    await Promise.all(sent.map((s) => producer.send(enc.encode(s))));
    await producer.close();

    const out = await finishPulsarTool(consumer, TOOL_TIMEOUT_MS);
    const got = [...out.matchAll(/, content:(.*)$/gm)].map((m) => m[1]);
    expect(got).toEqual(sent);
    expect(out).toContain(`${N} messages successfully consumed`);
    const stats = await admin.topicStats(topic);
    expect(stats.msgInCounter).toBe(N);
    expect(stats.subscriptions.java?.msgBacklog).toBe(0);
    const entries = await storedEntries(topic);
    expect(entries).toBeGreaterThan(0);
    expect(entries).toBeLessThan(N / 10);
  });

  it("busbench's consumer reads every message pulsar-perf produce wrote in batches, exactly once", async () => {
    const topic = topicName('java-to-wire');
    const consumer = await client().subscribe({ topic, subscription: 'wire', initialPosition: 'earliest' });
    const perf = tool('pulsar-perf', ['produce', '-u', broker.urls()[0]!, '-au', broker.adminUrl(), '-m', String(N), '-r', '1000000', '-s', '512', '-b', '1', '-bm', '1000', '-o', '1000', topic]);
    const out = await finishPulsarTool(perf, TOOL_TIMEOUT_MS);
    // -m stops pulsar-perf once N sends are acknowledged, and what it still had queued lands
    // too (seen: 5753 and 6355 of -m 5000, -o 1000): its own total is the count to meet.
    const sent = Number(/Aggregated throughput stats --- (\d+) records sent/.exec(out)?.[1] ?? NaN);
    expect(sent).toBeGreaterThanOrEqual(N);
    expect(sent).toBeLessThanOrEqual(2 * N);

    let count = 0;
    let quietSince = Date.now();
    const until = Date.now() + 60_000;
    // Past the total, keep listening 2 s: a message delivered twice, or one more than sent, shows.
    while (Date.now() < until && (count < sent || Date.now() - quietSince < 2_000)) {
      let b = consumer.receiveBatch(1000, 200);
      if (b instanceof Promise) b = await b;
      for (let i = 0; i < b.count; i++) expect(b.length(i)).toBe(512);
      if (b.count > 0) {
        count += b.count;
        quietSince = Date.now();
        consumer.ackBatch(b);
      }
    }
    expect(count).toBe(sent);
    expect((await admin.topicStats(topic)).msgInCounter).toBe(sent);
    const entries = await storedEntries(topic);
    expect(entries).toBeGreaterThan(0);
    expect(entries).toBeLessThan(N / 10);
  });
});
