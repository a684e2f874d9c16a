/**
 * The broker's maxMessageSize (CONNECTED) bounds every entry the producer writes, whatever
 * batchMaxBytes allows.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PulsarClient } from '../../src/adapters/pulsar/wire/client.ts';
import { Cmd } from '../../src/adapters/pulsar/wire/proto.ts';
import { ScriptedBroker } from './scripted-broker.ts';

const TOPIC = 'persistent://t/ns/max-size';
const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

describe('entries and the broker’s maxMessageSize', () => {
  it('cuts batches at the maxMessageSize CONNECTED announced, below batchMaxBytes', async () => {
    const maxMessageSize = 64 * 1024;
    const broker = await ScriptedBroker.start((cmd, s) => {
      if (cmd.type !== Cmd.CONNECT) return false;
      s.reply({ type: Cmd.CONNECTED, connected: { serverVersion: 'scripted', protocolVersion: 19, maxMessageSize } });
      return true;
    });
    open.push(broker);
    const client = new PulsarClient({ serviceUrl: broker.url, operationTimeoutMs: 3_000 });
    open.push(client);
    const p = await client.createProducer({ topic: TOPIC, batchMaxBytes: 1024 * 1024, batchMaxMessages: 1000, batchMaxDelayMs: 50, maxPendingMessages: 1000 });
    const size = 1024;
    p.sendMessages(new Uint8Array(200 * size), size, 200, 0);
    expect(await p.flush(3_000)).toBe(true);
    const counts = broker.commands(Cmd.SEND).map((c) => c.send!.numMessages);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(200);
    // each message costs its bytes plus its SingleMessageMetadata and length prefix
    for (const n of counts) expect(n * size).toBeLessThan(maxMessageSize);
    expect(Math.max(...counts)).toBeGreaterThan(maxMessageSize / size / 2); // still batched, not one per entry
  });
});
