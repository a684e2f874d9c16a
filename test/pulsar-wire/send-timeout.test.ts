/**
 * A send timeout, against a stand-in broker that leaves the first connection's sends
 * unanswered: every pending entry fails with it, so none is resent on the next connection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PulsarClient } from '../../src/adapters/pulsar/wire/client.ts';
import { PulsarWireError } from '../../src/adapters/pulsar/wire/errors.ts';
import { Cmd, u64 } from '../../src/adapters/pulsar/wire/proto.ts';
import { ScriptedBroker } from './scripted-broker.ts';

const TOPIC = 'persistent://t/ns/send-timeout';
const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function until(cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

describe('send timeout', () => {
  it('fails every pending entry, not only the oldest, and resends none after a reconnect', async () => {
    const broker = await ScriptedBroker.start((cmd, s) => cmd.type === Cmd.SEND && s.index === 0);
    open.push(broker);
    const client = new PulsarClient({ serviceUrl: broker.url, operationTimeoutMs: 3_000, reconnectInitialMs: 10, reconnectMaxMs: 50 });
    open.push(client);
    const outcomes: string[] = [];
    const p = await client.createProducer({ topic: TOPIC, batching: false, sendTimeoutMs: 1_000, onEntry: (seq, count, err) => outcomes.push(`${seq}+${count}:${err ? 'failed' : 'stored'}`) });
    p.sendMessages(new Uint8Array(1), 1, 1, 0);
    await new Promise((r) => setTimeout(r, 600));
    p.sendMessages(new Uint8Array(1), 1, 1, 1); // 400 ms short of its own timeout when the first one's expires
    await until(() => outcomes.length > 0, 3_000);
    broker.sessions[0]!.destroy();
    await until(() => broker.sessions.length > 1, 3_000);
    await p.flush(1_000);
    expect(outcomes).toHaveLength(2);
    expect(outcomes).toEqual(['0+1:failed', '1+1:failed']);
    expect(p.stats.timedOutEntries).toBe(2);
    expect(broker.received.filter((r) => r.session > 0 && r.cmd.type === Cmd.SEND).map((r) => u64(r.cmd.send!.sequenceId))).toEqual([]);
  });
  it('fails the open batch with them, as never sent', async () => {
    const broker = await ScriptedBroker.start((cmd) => cmd.type === Cmd.SEND);
    open.push(broker);
    const client = new PulsarClient({ serviceUrl: broker.url, operationTimeoutMs: 3_000 });
    open.push(client);
    const outcomes: string[] = [];
    const p = await client.createProducer({ topic: TOPIC, batchMaxDelayMs: 60_000, sendTimeoutMs: 400, onEntry: (seq, count, err) => outcomes.push(`${seq}+${count}:${err ? `sent=${String(err instanceof PulsarWireError && err.sent)}` : 'stored'}`) });
    p.sendMessages(new Uint8Array(2), 1, 2, 0);
    p.flushBatch();
    p.sendMessages(new Uint8Array(1), 1, 1, 2); // stays in the open batch
    await until(() => outcomes.length > 1, 3_000);
    expect(outcomes).toEqual(['0+2:sent=true', '2+1:sent=false']);
    expect(p.pendingCount).toBe(0);
  });
});
