/**
 * The read-back's count is complete only when it reached the entry GET_LAST_MESSAGE_ID
 * named: a stand-in broker that stops delivering short of it gets no count.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readBack } from '../../src/adapters/pulsar/read-back.ts';
import { Cmd, u64 } from '../../src/adapters/pulsar/wire/proto.ts';
import { ScriptedBroker } from '../pulsar-wire/scripted-broker.ts';
import { batchEntry, deliver, writeRaw } from '../pulsar-wire/raw-frames.ts';

const TOPIC = 'persistent://t/ns/read-back';
const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

/** A topic whose last entry is 1:`lastEntry`, of which the broker delivers entries 0..`delivered`-1 (3 messages each). */
async function topicBroker(lastEntry: number, delivered: number): Promise<ScriptedBroker> {
  const entry = batchEntry(3);
  const b = await ScriptedBroker.start((cmd, s) => {
    if (cmd.type === Cmd.GET_LAST_MESSAGE_ID) {
      const requestId = u64(cmd.getLastMessageId!.requestId);
      writeRaw(s, { type: Cmd.GET_LAST_MESSAGE_ID_RESPONSE, getLastMessageIdResponse: { requestId, lastMessageId: { ledgerId: 1, entryId: lastEntry } } });
      return true;
    }
    if (cmd.type === Cmd.FLOW) {
      for (let e = 0; e < delivered; e++) deliver(s, u64(cmd.flow!.consumerId), 1, e, entry);
      return true;
    }
    return false;
  });
  open.push(b);
  return b;
}

describe('readBack', () => {
  it('counts every message up to the last entry as complete', async () => {
    const b = await topicBroker(3, 4);
    expect(await readBack(b.url, [TOPIC], 'rb', 10_000, 300)).toMatchObject({ messages: 12, entries: 4 });
  });

  it('reports a stall short of the last entry as incomplete (no count), not as what arrived', async () => {
    const b = await topicBroker(5, 4);
    const back = await readBack(b.url, [TOPIC], 'rb', 10_000, 300);
    expect(back.messages).toBeUndefined();
    expect(back.entries).toBe(4);
  });
});
