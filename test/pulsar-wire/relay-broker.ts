/**
 * A stand-in broker that relays: every SEND is stored and delivered to the topic's
 * subscriber as it was written, so the real client and the real harness run end to end
 * over it. A script makes it do what a standalone Pulsar cannot be made to do on cue:
 * deliver an entry whose checksum is wrong, or answer a send with broker deduplication's
 * -1:-1 without storing it (as it does for a resend below its high-water mark).
 */
import { encodePayloadFrame } from '../../src/adapters/pulsar/wire/framing.ts';
import { Cmd, schema, u64 } from '../../src/adapters/pulsar/wire/proto.ts';
import type { RawEntry } from './raw-frames.ts';
import { ScriptedBroker, type Session } from './scripted-broker.ts';

const BaseCommand = schema.lookupType('pulsar.proto.BaseCommand');

export interface RelayScript {
  /** the n-th entry sent (0-based) reaches the consumer with one payload byte flipped */
  corrupt?: number;
  /** the n-th entry sent is answered -1:-1 (deduplication) and never stored */
  duplicateUnstored?: number;
}

export interface Relay {
  broker: ScriptedBroker;
  /** messages of the entry the script acted on, once it was sent */
  scriptedMessages: number;
}

export async function startRelay(script: RelayScript): Promise<Relay> {
  const stored: RawEntry[] = [];
  const delivered = new Map<Session, { consumerId: number; next: number }>();
  let sends = 0;
  const relay: Relay = { broker: undefined as unknown as ScriptedBroker, scriptedMessages: 0 };
  const flush = (): void => {
    for (const [s, sub] of delivered) {
      for (; sub.next < stored.length; sub.next++) s.write(messageFrame(sub.consumerId, sub.next, stored[sub.next]!, sub.next === script.corrupt));
    }
  };
  relay.broker = await ScriptedBroker.start((cmd, s, _broker, f) => {
    if (cmd.type === Cmd.SUBSCRIBE) {
      const sub = cmd.subscribe!;
      s.reply({ type: Cmd.SUCCESS, success: { requestId: u64(sub.requestId) } });
      delivered.set(s, { consumerId: u64(sub.consumerId), next: 0 });
      flush();
      return true;
    }
    if (cmd.type !== Cmd.SEND) return false;
    const send = cmd.send!;
    const n = sends++;
    if (n === script.corrupt || n === script.duplicateUnstored) relay.scriptedMessages = send.numMessages;
    const ids = { producerId: u64(send.producerId), sequenceId: u64(send.sequenceId), highestSequenceId: u64(send.highestSequenceId) };
    if (n === script.duplicateUnstored) {
      s.reply({ type: Cmd.SEND_RECEIPT, sendReceipt: { ...ids, messageId: { ledgerId: -1, entryId: -1 } } });
      return true;
    }
    stored.push({ metadata: f.buf.slice(f.metadataStart, f.metadataEnd), payload: f.buf.slice(f.payloadStart, f.payloadEnd) });
    s.reply({ type: Cmd.SEND_RECEIPT, sendReceipt: { ...ids, messageId: { ledgerId: 1, entryId: stored.length - 1 } } });
    flush();
    return true;
  });
  return relay;
}

function messageFrame(consumerId: number, entryId: number, entry: RawEntry, corrupt: boolean): Uint8Array {
  const cmd = BaseCommand.encode(BaseCommand.fromObject({ type: Cmd.MESSAGE, message: { consumerId, messageId: { ledgerId: 1, entryId } } })).finish();
  const frame = encodePayloadFrame(cmd, entry.metadata, entry.payload);
  // the payload's last byte: covered by the checksum, so the consumer must reject the entry
  if (corrupt) frame[frame.length - 1]! ^= 0xff;
  return frame;
}
