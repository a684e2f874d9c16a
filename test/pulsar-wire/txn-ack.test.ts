/**
 * A transactional acknowledgement of a batch entry, on the wire: the stand-in broker hands
 * the consumer one batch and decodes the ACK it gets back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PulsarClient } from '../../src/adapters/pulsar/wire/client.ts';
import { Cmd, u64 } from '../../src/adapters/pulsar/wire/proto.ts';
import { ScriptedBroker } from './scripted-broker.ts';
import { batchEntry, deliver, writeRaw } from './raw-frames.ts';

const TOPIC = 'persistent://t/ns/txn-ack';
const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

describe('ackBatchInTxn', () => {
  it('sends batch_size (MessageIdData 6) = the entry’s message count', async () => {
    const entry = batchEntry(5);
    let delivered = false;
    const broker = await ScriptedBroker.start((cmd, s) => {
      if (cmd.type === Cmd.FLOW && !delivered) {
        delivered = true;
        deliver(s, u64(cmd.flow!.consumerId), 7, 3, entry);
        return true;
      }
      if (cmd.type === Cmd.ACK) {
        writeRaw(s, { type: Cmd.ACK_RESPONSE, ackResponse: { consumerId: u64(cmd.ack!.consumerId), requestId: u64(cmd.ack!.requestId), txnidLeastBits: 2, txnidMostBits: 1 } });
        return true;
      }
      return false;
    });
    open.push(broker);
    const client = new PulsarClient({ serviceUrl: broker.url, operationTimeoutMs: 3_000 });
    open.push(client);
    const consumer = await client.subscribe({ topic: TOPIC, subscription: 's', subType: 'Shared' });
    let b = consumer.receiveBatch(10, 3_000, true);
    if (b instanceof Promise) b = await b;
    expect(b.count).toBe(5);
    await consumer.ackBatchInTxn(b, { mostBits: 1, leastBits: 2 });
    const ack = broker.commands(Cmd.ACK)[0]?.ack;
    expect(ack?.messageId).toHaveLength(1);
    expect(u64(ack!.messageId[0]!.ledgerId)).toBe(7);
    expect(u64(ack!.messageId[0]!.entryId)).toBe(3);
    expect(ack!.messageId[0]!.batchSize).toBe(5);
  });
});
