/**
 * Counts the messages a topic holds by reading it from the start with a non-durable
 * subscription. The broker's own counters cannot say this: msgInCounter also counts the
 * duplicates deduplication dropped and restarts from zero with the broker, and a
 * subscription's msgBacklog counts entries (a batch is one), not messages.
 */
import type { ConnectSettings } from './init.ts';
import { PulsarClient } from './wire/index.ts';

export interface ReadBack {
  /**
   * messages read; undefined unless the read reached the last entry getLastMessageId
   * named on every topic (the time ran out, or deliveries stopped short of it)
   */
  messages: number | undefined;
  entries: number;
  ms: number;
}

/** A gap in deliveries this long, short of the last entry, ends the read as incomplete. */
const STALL_MS = 5_000;

/** @param connect a service URL, or the run's client settings (listener, TLS, token) */
export async function readBack(connect: string | ConnectSettings, topics: string[], subscription: string, timeoutMs: number, stallMs = STALL_MS): Promise<ReadBack> {
  const t0 = Date.now();
  const deadline = t0 + timeoutMs;
  const settings = typeof connect === 'string' ? { serviceUrl: connect } : connect;
  const client = new PulsarClient({ ...settings, operationTimeoutMs: Math.min(30_000, timeoutMs) });
  let messages = 0;
  let entries = 0;
  let complete = true;
  try {
    for (const topic of topics) {
      const reader = await client.subscribe({ topic, subscription, durable: false, initialPosition: 'earliest', receiverQueueSize: 5000 });
      // Read up to the last entry written. A long silence before it ends the read as
      // incomplete: what was not delivered may be stored, so the count is not a stored
      // count. (Markers are no reason to stop short: since Pulsar 3.0 the broker answers
      // GET_LAST_MESSAGE_ID with its last dispatchable entry, skipping them.)
      const last = await reader.getLastMessageId();
      let reached = last.entryId < 0;
      while (!reached) {
        if (Date.now() > deadline) {
          complete = false;
          break;
        }
        let b = reader.receiveBatch(5000, stallMs);
        if (b instanceof Promise) b = await b;
        if (b.count === 0) {
          complete = false;
          break;
        }
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
