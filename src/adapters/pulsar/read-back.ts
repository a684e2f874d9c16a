/**
 * Counts the messages a topic holds by reading it from the start with a non-durable
 * subscription. The broker's own counters cannot say this: msgInCounter also counts the
 * duplicates deduplication dropped and restarts from zero with the broker, and a
 * subscription's msgBacklog counts entries (a batch is one), not messages.
 */
import { PulsarClient } from './wire/index.ts';

export interface ReadBack {
  /** messages read; undefined when the time ran out first */
  messages: number | undefined;
  entries: number;
  ms: number;
}

export async function readBack(serviceUrl: string, topics: string[], subscription: string, timeoutMs: number): Promise<ReadBack> {
  const t0 = Date.now();
  const deadline = t0 + timeoutMs;
  const client = new PulsarClient({ serviceUrl, operationTimeoutMs: Math.min(30_000, timeoutMs) });
  let messages = 0;
  let entries = 0;
  let complete = true;
  try {
    for (const topic of topics) {
      const reader = await client.subscribe({ topic, subscription, durable: false, initialPosition: 'earliest', receiverQueueSize: 5000 });
      // Read up to the last entry written; a long silence before it also ends the read
      // (an entry id the reader never sees, e.g. a broker-internal marker).
      const last = await reader.getLastMessageId();
      let reached = last.entryId < 0;
      while (!reached) {
        if (Date.now() > deadline) {
          complete = false;
          break;
        }
        let b = reader.receiveBatch(5000, 5_000);
        if (b instanceof Promise) b = await b;
        if (b.count === 0) break;
        messages += b.count;
        const id = b.messageId(b.count - 1);
        reached = id.ledgerId > last.ledgerId || (id.ledgerId === last.ledgerId && id.entryId >= last.entryId);
        reader.ackBatch(b);
      }
      entries += reader.stats.entriesReceived;
      await reader.close();
      if (!complete) break;
    }
  } finally {
    await client.close();
  }
  return { messages: complete ? messages : undefined, entries, ms: Date.now() - t0 };
}
