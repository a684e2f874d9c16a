/**
 * Frames between the two ring servers of `replicas: 2` (the framing of child/protocol.ts,
 * on the secondary's replication port). All from the primary but ACK:
 *   HELLO    (none)                                   the first frame: this connection is the primary
 *   RESET    u32 lane | f64 committed | f64 lastSeq   the lane starts empty at `committed`
 *   APPEND   u32 lane | f64 firstOffset | f64 firstSeq | u32 count | u32 size | count*size bytes
 *   COMMIT   u32 lane | f64 offset
 *   SYNCED   (none)                                   every lane's RESET and backlog was sent
 *   ACK      u32 lane | f64 upTo                      secondary -> primary: stored (and synced) below upTo
 * and, on a connection of its own from the harness:
 *   STATUS   (none)  ->  STATUS_REPLY u8 caughtUp      has the secondary caught up with a primary?
 *
 * On connecting, the primary sends HELLO, a RESET and the APPENDs of [committed, appended)
 * for every lane (the catch-up), SYNCED, then each append as it comes.
 */
import { BusbenchError } from '../../../core/errors.ts';

export const REPL = {
  hello: 32,
  reset: 33,
  append: 34,
  commit: 35,
  synced: 36,
  ack: 37,
  status: 38,
  statusReply: 39,
} as const;

const APPEND_HEADER = 4 + 1 + 4 + 8 + 8 + 4 + 4;

function frame(type: number, bodyBytes: number): Buffer {
  const b = Buffer.allocUnsafe(4 + bodyBytes);
  b.writeUInt32LE(bodyBytes, 0);
  b.writeUInt8(type, 4);
  return b;
}

export const encodeHello = (): Buffer => frame(REPL.hello, 1);
export const encodeSynced = (): Buffer => frame(REPL.synced, 1);
export const encodeStatus = (): Buffer => frame(REPL.status, 1);

export function encodeStatusReply(caughtUp: boolean): Buffer {
  const b = frame(REPL.statusReply, 2);
  b.writeUInt8(caughtUp ? 1 : 0, 5);
  return b;
}

export function encodeReset(lane: number, committed: number, lastSeq: number): Buffer {
  const b = frame(REPL.reset, 1 + 4 + 8 + 8);
  b.writeUInt32LE(lane, 5);
  b.writeDoubleLE(committed, 9);
  b.writeDoubleLE(lastSeq, 17);
  return b;
}

export function decodeReset(body: Buffer): { lane: number; committed: number; lastSeq: number } {
  return { lane: body.readUInt32LE(1), committed: body.readDoubleLE(5), lastSeq: body.readDoubleLE(13) };
}

export interface ReplAppend {
  lane: number;
  firstOffset: number;
  firstSeq: number;
  count: number;
  size: number;
  payload: Buffer;
}

/** The APPEND header only: its payload follows on the wire as a separate buffer (no copy). */
export function encodeAppendHeader(lane: number, firstOffset: number, firstSeq: number, count: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(APPEND_HEADER);
  b.writeUInt32LE(APPEND_HEADER - 4 + count * size, 0);
  b.writeUInt8(REPL.append, 4);
  b.writeUInt32LE(lane, 5);
  b.writeDoubleLE(firstOffset, 9);
  b.writeDoubleLE(firstSeq, 17);
  b.writeUInt32LE(count, 25);
  b.writeUInt32LE(size, 29);
  return b;
}

export function decodeAppend(body: Buffer): ReplAppend {
  const a = { lane: body.readUInt32LE(1), firstOffset: body.readDoubleLE(5), firstSeq: body.readDoubleLE(13), count: body.readUInt32LE(21), size: body.readUInt32LE(25), payload: body.subarray(APPEND_HEADER - 4) };
  if (a.payload.length !== a.count * a.size) throw new BusbenchError('BROKER', `replication APPEND of ${a.count} x ${a.size} bytes carries ${a.payload.length}`);
  return a;
}

function laneOffset(type: number, lane: number, offset: number): Buffer {
  const b = frame(type, 1 + 4 + 8);
  b.writeUInt32LE(lane, 5);
  b.writeDoubleLE(offset, 9);
  return b;
}

export const encodeReplCommit = (lane: number, offset: number): Buffer => laneOffset(REPL.commit, lane, offset);
export const encodeReplAck = (lane: number, upTo: number): Buffer => laneOffset(REPL.ack, lane, upTo);

export function decodeLaneOffset(body: Buffer): { lane: number; offset: number } {
  return { lane: body.readUInt32LE(1), offset: body.readDoubleLE(5) };
}
