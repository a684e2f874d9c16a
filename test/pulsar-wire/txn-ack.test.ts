/**
 * A transactional acknowledgement of a batch entry, on the wire: the stand-in broker hands
 * the consumer one batch and decodes the ACK it gets back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PulsarClient } from '../../src/adapters/pulsar/wire/client.ts';
import { EntryBuilder } from '../../src/adapters/pulsar/wire/batch.ts';
import { encodePayloadFrame, encodeSimpleFrame, parseFrame } from '../../src/adapters/pulsar/wire/framing.ts';
import { Cmd, schema, u64 } from '../../src/adapters/pulsar/wire/proto.ts';
import { ScriptedBroker, type Session } from './scripted-broker.ts';

const TOPIC = 'persistent://t/ns/txn-ack';
const BaseCommand = schema.lookupType('pulsar.proto.BaseCommand');
const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

/** Commands outside the client's outbound union (MESSAGE, ACK_RESPONSE), encoded from the schema. */
function writeRaw(s: Session, cmd: Record<string, unknown>, metadata?: Uint8Array, payload?: Uint8Array): void {
  const bytes = BaseCommand.encode(BaseCommand.fromObject(cmd)).finish();
  s.write(metadata && payload ? encodePayloadFrame(bytes, metadata, payload) : encodeSimpleFrame(bytes));
}

/** The metadata and payload of a batch of `n` messages, as a producer writes them. */
function batchEntry(n: number): { metadata: Uint8Array; payload: Uint8Array } {
  const b = new EntryBuilder(true, new TextEncoder().encode('p'), 0);
  for (let i = 0; i < n; i++) b.add(Uint8Array.of(i), 0, 1, i);
  const f = parseFrame(b.finish(1).frame.subarray(4));
  return { metadata: f.buf.slice(f.metadataStart, f.metadataEnd), payload: f.buf.slice(f.payloadStart, f.payloadEnd) };
}

describe('ackBatchInTxn', () => {
  it('sends batch_size (MessageIdData 6) = the entry’s message count', async () => {
    const entry = batchEntry(5);
    let delivered = false;
    const broker = await ScriptedBroker.start((cmd, s) => {
      if (cmd.type === Cmd.FLOW && !delivered) {
        delivered = true;
        writeRaw(s, { type: Cmd.MESSAGE, message: { consumerId: u64(cmd.flow!.consumerId), messageId: { ledgerId: 7, entryId: 3 } } }, entry.metadata, entry.payload);
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
