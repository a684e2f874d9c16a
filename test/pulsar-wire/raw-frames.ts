/**
 * Frames a stand-in broker sends that the client's outbound command union does not cover
 * (MESSAGE, ACK_RESPONSE, GET_LAST_MESSAGE_ID_RESPONSE), encoded straight from the schema,
 * and batch entries built by the producer's own EntryBuilder.
 */
import { EntryBuilder } from '../../src/adapters/pulsar/wire/batch.ts';
import { encodePayloadFrame, encodeSimpleFrame, parseFrame } from '../../src/adapters/pulsar/wire/framing.ts';
import { Cmd, schema } from '../../src/adapters/pulsar/wire/proto.ts';
import type { Session } from './scripted-broker.ts';

const BaseCommand = schema.lookupType('pulsar.proto.BaseCommand');

export interface RawEntry {
  metadata: Uint8Array;
  payload: Uint8Array;
}

/** Writes a BaseCommand given as a plain object, with an entry when there is one. */
export function writeRaw(s: Session, cmd: Record<string, unknown>, entry?: RawEntry): void {
  const bytes = BaseCommand.encode(BaseCommand.fromObject(cmd)).finish();
  s.write(entry ? encodePayloadFrame(bytes, entry.metadata, entry.payload) : encodeSimpleFrame(bytes));
}

/** The metadata and payload of a batch of `n` one-byte messages, as a producer writes them. */
export function batchEntry(n: number): RawEntry {
  const b = new EntryBuilder(true, new TextEncoder().encode('p'), 0);
  for (let i = 0; i < n; i++) b.add(Uint8Array.of(i), 0, 1, i);
  const f = parseFrame(b.finish(1).frame.subarray(4));
  return { metadata: f.buf.slice(f.metadataStart, f.metadataEnd), payload: f.buf.slice(f.payloadStart, f.payloadEnd) };
}

/** Delivers `entry` to consumer `consumerId` as ledger:entry. */
export function deliver(s: Session, consumerId: number, ledgerId: number, entryId: number, entry: RawEntry): void {
  writeRaw(s, { type: Cmd.MESSAGE, message: { consumerId, messageId: { ledgerId, entryId } } }, entry);
}
