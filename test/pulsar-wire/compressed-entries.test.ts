/**
 * Compressed entries as the Java client writes them, handed to the consumer by a stand-in
 * broker: MessageMetadata encoded straight from the schema, payloads compressed by the
 * reference libraries (./compression-vectors.ts). A real broker cannot be made to store a
 * corrupt compressed payload with a valid checksum for us, the stand-in can.
 */
import zlib from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PulsarClient } from '../../src/adapters/pulsar/wire/client.ts';
import { AckValidationError, Cmd, schema, subCommand, u64 } from '../../src/adapters/pulsar/wire/proto.ts';
import { ScriptedBroker } from './scripted-broker.ts';
import { batchEntry, deliver, type RawEntry } from './raw-frames.ts';
import { ORDERS, VECTORS } from './compression-vectors.ts';

const TOPIC = 'persistent://t/ns/compressed';
const MessageMetadata = schema.lookupType('pulsar.proto.MessageMetadata');
const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

function entry(compression: number, payload: Uint8Array, uncompressedSize: number, numMessagesInBatch?: number): RawEntry {
  const meta = { producerName: 'java-producer', sequenceId: 0, publishTime: 1, compression, uncompressedSize, ...(numMessagesInBatch !== undefined ? { numMessagesInBatch } : {}) };
  return { metadata: MessageMetadata.encode(MessageMetadata.fromObject(meta)).finish(), payload };
}

describe('compressed entries', () => {
  it('are decoded by the codec their metadata names; corrupt ones are discarded with DecompressionError and counted', async () => {
    const batch = batchEntry(5);
    const entries: RawEntry[] = [
      entry(1, VECTORS.lz4, ORDERS.length),
      entry(2, VECTORS.zlib, ORDERS.length),
      entry(3, VECTORS.zstd, ORDERS.length),
      entry(4, VECTORS.snappy, ORDERS.length),
      // the LZ4 block with a wrong uncompressed_size, and bytes that are no zstd frame
      entry(1, VECTORS.lz4, ORDERS.length + 7),
      entry(3, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 8),
      // a batch of five one-byte messages, zlib-compressed as a whole
      entry(2, zlib.deflateSync(batch.payload), batch.payload.length, 5),
    ];
    let delivered = false;
    const broker = await ScriptedBroker.start((cmd, s) => {
      if (cmd.type === Cmd.FLOW && !delivered) {
        delivered = true;
        entries.forEach((e, i) => deliver(s, u64(cmd.flow!.consumerId), 9, i, e));
        return true;
      }
      return cmd.type === Cmd.ACK;
    });
    open.push(broker);
    const client = new PulsarClient({ serviceUrl: broker.url, operationTimeoutMs: 3_000, log: () => undefined });
    open.push(client);
    const consumer = await client.subscribe({ topic: TOPIC, subscription: 's' });

    const first = await consumer.receive(3_000);
    expect(first?.producerName).toBe('java-producer');
    expect(Buffer.from(first!.data).toString()).toBe(Buffer.from(ORDERS).toString());
    const got: string[] = [];
    while (got.length < 8) {
      let b = consumer.receiveBatch(100, 3_000);
      if (b instanceof Promise) b = await b;
      if (b.count === 0) break;
      for (let i = 0; i < b.count; i++) got.push(b.data(i).length === ORDERS.length ? 'orders' : `byte ${b.data(i)[0]}`);
    }
    expect(got).toEqual(['orders', 'orders', 'orders', 'byte 0', 'byte 1', 'byte 2', 'byte 3', 'byte 4']);
    expect(consumer.stats.discardedEntries).toBe(2);
    // The discards' ACKs, with the reason (CommandAck.validation_error), once the broker has read them.
    const discarded = (): number[] =>
      broker
        .commands(Cmd.ACK)
        .filter((c) => subCommand(c)?.validationError === AckValidationError.DecompressionError)
        .map((c) => u64(c.ack!.messageId[0]!.entryId));
    await vi.waitFor(() => expect(discarded()).toEqual([4, 5]), { timeout: 3_000 });
  });
});
