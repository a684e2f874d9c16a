/**
 * How the producer matches send receipts to its entries: by the whole range
 * [sequence_id, highest_sequence_id], not by the first sequence id alone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PulsarClient } from '../../src/adapters/pulsar/wire/client.ts';
import { Cmd, u64 } from '../../src/adapters/pulsar/wire/proto.ts';
import { ScriptedBroker } from './scripted-broker.ts';

const TOPIC = 'persistent://t/ns/receipts';
const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

describe('send receipts', () => {
  it('takes a receipt whose highest_sequence_id is not the entry’s as out of step: reconnects and resends', async () => {
    // The first connection answers the batch 0..2 as if it were 0..1.
    const broker = await ScriptedBroker.start((cmd, s) => {
      if (cmd.type !== Cmd.SEND || s.index > 0) return false;
      const send = cmd.send!;
      s.reply({
        type: Cmd.SEND_RECEIPT,
        sendReceipt: { producerId: u64(send.producerId), sequenceId: u64(send.sequenceId), highestSequenceId: u64(send.highestSequenceId) - 1, messageId: { ledgerId: 9, entryId: 9 } },
      });
      return true;
    });
    open.push(broker);
    const client = new PulsarClient({ serviceUrl: broker.url, operationTimeoutMs: 3_000, reconnectInitialMs: 10, reconnectMaxMs: 50 });
    open.push(client);
    const outcomes: string[] = [];
    const p = await client.createProducer({ topic: TOPIC, batchMaxDelayMs: 1, onEntry: (seq, count, err, ledgerId) => outcomes.push(`${seq}+${count}:${err ? 'err' : ledgerId}`) });
    p.sendMessages(new Uint8Array(30), 10, 3, 0);
    expect(await p.flush(3_000)).toBe(true);
    expect(outcomes).toEqual(['0+3:1']); // settled by the second connection's receipt (ledger 1), not the first's (9)
    expect(broker.sessions.length).toBe(2);
    expect(broker.commands(Cmd.SEND).map((c) => [u64(c.send!.sequenceId), u64(c.send!.highestSequenceId)])).toEqual([
      [0, 2],
      [0, 2],
    ]);
  });

  it('accepts a receipt without highest_sequence_id (older brokers) for a single message', async () => {
    const broker = await ScriptedBroker.start((cmd, s) => {
      if (cmd.type !== Cmd.SEND) return false;
      s.reply({ type: Cmd.SEND_RECEIPT, sendReceipt: { producerId: u64(cmd.send!.producerId), sequenceId: u64(cmd.send!.sequenceId), messageId: { ledgerId: 4, entryId: 0 } } });
      return true;
    });
    open.push(broker);
    const client = new PulsarClient({ serviceUrl: broker.url, operationTimeoutMs: 3_000 });
    open.push(client);
    const p = await client.createProducer({ topic: TOPIC, batching: false });
    await expect(p.send(new Uint8Array([1]), { sequenceId: 7 })).resolves.toMatchObject({ ledgerId: 4 });
    expect(broker.sessions.length).toBe(1);
  });
});
