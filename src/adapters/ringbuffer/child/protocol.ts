/**
 * The ring server's wire protocol: length-prefixed binary frames over TCP, all numbers
 * little-endian. Every frame is
 *   u32 body length | u8 type | fields...
 * Sequences and offsets travel as f64: exact up to 2^53, as in the harness itself.
 *
 * Producer -> server
 *   PUBLISH    u32 reqId | u32 lane | f64 firstSeq | u32 count | u32 size | count*size bytes
 * Server -> producer
 *   ACK        u32 reqId | u8 status | utf8 reason (status FAILED only)
 * Consumer -> server
 *   SUBSCRIBE  u32 credit | u32 n | n * u32 lane   (delivery restarts at each lane's committed offset)
 *   CREDIT     u32 messages                         (room for that many more deliveries)
 *   COMMIT     u32 lane | f64 offset                (everything before offset was handled)
 * Server -> consumer
 *   DELIVER    u32 lane | f64 firstOffset | u32 count | u32 size | count*size bytes
 * Anyone
 *   STATS      u32 reqId  ->  STATS_REPLY u32 reqId | u32 n | n * (f64 appended | f64 committed | f64 lastSeq)
 *   ERROR      utf8 reason (the sender closes the connection after it)
 *
 * Each publish is acknowledged by reqId, so acks may come in any order. A consumer's
 * credit counts messages: the server never sends more than it was granted.
 */
import { BusbenchError } from '../../../core/errors.ts';

export const FRAME = {
  publish: 1,
  subscribe: 2,
  credit: 3,
  commit: 4,
  stats: 5,
  ack: 16,
  deliver: 17,
  statsReply: 18,
  error: 19,
} as const;

export const ACK_STORED = 0;
/** dropped as a re-sent (producer, sequence) the lane already holds: the system has it */
export const ACK_DUPLICATE = 1;
export const ACK_FAILED = 2;

export const PUBLISH_HEADER = 4 + 1 + 4 + 4 + 8 + 4 + 4;
export const DELIVER_HEADER = 4 + 1 + 4 + 8 + 4 + 4;
/** frame bodies beyond a lane's capacity plus this are refused as corrupt */
export const FRAME_SLACK = 64 * 1024;

export interface LaneStats {
  /** next offset to append: messages the lane ever stored */
  appended: number;
  committed: number;
  lastSeq: number;
}

function frame(type: number, bodyBytes: number): Buffer {
  const b = Buffer.allocUnsafe(4 + bodyBytes);
  b.writeUInt32LE(bodyBytes, 0);
  b.writeUInt8(type, 4);
  return b;
}

/** A whole PUBLISH frame: the payload is copied, since the harness reuses its bytes. */
export function encodePublish(reqId: number, lane: number, firstSeq: number, count: number, size: number, payload: Uint8Array): Buffer {
  const b = frame(FRAME.publish, PUBLISH_HEADER - 4 + payload.length);
  b.writeUInt32LE(reqId, 5);
  b.writeUInt32LE(lane, 9);
  b.writeDoubleLE(firstSeq, 13);
  b.writeUInt32LE(count, 21);
  b.writeUInt32LE(size, 25);
  b.set(payload, PUBLISH_HEADER);
  return b;
}

export interface Publish {
  reqId: number;
  lane: number;
  firstSeq: number;
  count: number;
  size: number;
  payload: Buffer;
}

/** `body` starts at the type byte. */
export function decodePublish(body: Buffer): Publish {
  const p = {
    reqId: body.readUInt32LE(1),
    lane: body.readUInt32LE(5),
    firstSeq: body.readDoubleLE(9),
    count: body.readUInt32LE(17),
    size: body.readUInt32LE(21),
    payload: body.subarray(PUBLISH_HEADER - 4),
  };
  if (p.payload.length !== p.count * p.size) throw new BusbenchError('ADAPTER', `PUBLISH of ${p.count} x ${p.size} bytes carries ${p.payload.length}`);
  return p;
}

export function encodeAck(reqId: number, status: number, reason = ''): Buffer {
  const text = Buffer.from(reason, 'utf8');
  const b = frame(FRAME.ack, 1 + 4 + 1 + text.length);
  b.writeUInt32LE(reqId, 5);
  b.writeUInt8(status, 9);
  b.set(text, 10);
  return b;
}

export function decodeAck(body: Buffer): { reqId: number; status: number; reason: string } {
  return { reqId: body.readUInt32LE(1), status: body.readUInt8(5), reason: body.toString('utf8', 6) };
}

export function encodeSubscribe(credit: number, lanes: number[]): Buffer {
  const b = frame(FRAME.subscribe, 1 + 8 + 4 * lanes.length);
  b.writeUInt32LE(credit, 5);
  b.writeUInt32LE(lanes.length, 9);
  lanes.forEach((l, i) => b.writeUInt32LE(l, 13 + 4 * i));
  return b;
}

export function decodeSubscribe(body: Buffer): { credit: number; lanes: number[] } {
  const n = body.readUInt32LE(5);
  if (body.length !== 9 + 4 * n) throw new BusbenchError('ADAPTER', `SUBSCRIBE for ${n} lanes is ${body.length} bytes long`);
  return { credit: body.readUInt32LE(1), lanes: Array.from({ length: n }, (_, i) => body.readUInt32LE(9 + 4 * i)) };
}

export function encodeCredit(messages: number): Buffer {
  const b = frame(FRAME.credit, 5);
  b.writeUInt32LE(messages, 5);
  return b;
}

export function encodeCommit(lane: number, offset: number): Buffer {
  const b = frame(FRAME.commit, 13);
  b.writeUInt32LE(lane, 5);
  b.writeDoubleLE(offset, 9);
  return b;
}

export function decodeCommit(body: Buffer): { lane: number; offset: number } {
  return { lane: body.readUInt32LE(1), offset: body.readDoubleLE(5) };
}

/** The header of a DELIVER frame; the payload follows it on the wire as a separate buffer. */
export function encodeDeliverHeader(lane: number, firstOffset: number, count: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(DELIVER_HEADER);
  b.writeUInt32LE(DELIVER_HEADER - 4 + count * size, 0);
  b.writeUInt8(FRAME.deliver, 4);
  b.writeUInt32LE(lane, 5);
  b.writeDoubleLE(firstOffset, 9);
  b.writeUInt32LE(count, 17);
  b.writeUInt32LE(size, 21);
  return b;
}

export interface Delivery {
  lane: number;
  firstOffset: number;
  count: number;
  size: number;
  /** the frame body; messages start at `start` */
  body: Buffer;
  start: number;
}

export function decodeDeliver(body: Buffer): Delivery {
  const d = { lane: body.readUInt32LE(1), firstOffset: body.readDoubleLE(5), count: body.readUInt32LE(13), size: body.readUInt32LE(17), body, start: DELIVER_HEADER - 4 };
  if (body.length - d.start !== d.count * d.size) throw new BusbenchError('ADAPTER', `DELIVER of ${d.count} x ${d.size} bytes carries ${body.length - d.start}`);
  return d;
}

export function encodeStats(reqId: number): Buffer {
  const b = frame(FRAME.stats, 5);
  b.writeUInt32LE(reqId, 5);
  return b;
}

export function encodeStatsReply(reqId: number, lanes: LaneStats[]): Buffer {
  const b = frame(FRAME.statsReply, 9 + 24 * lanes.length);
  b.writeUInt32LE(reqId, 5);
  b.writeUInt32LE(lanes.length, 9);
  lanes.forEach((l, i) => {
    b.writeDoubleLE(l.appended, 13 + 24 * i);
    b.writeDoubleLE(l.committed, 21 + 24 * i);
    b.writeDoubleLE(l.lastSeq, 29 + 24 * i);
  });
  return b;
}

export function decodeStatsReply(body: Buffer): { reqId: number; lanes: LaneStats[] } {
  const n = body.readUInt32LE(5);
  return {
    reqId: body.readUInt32LE(1),
    lanes: Array.from({ length: n }, (_, i) => ({ appended: body.readDoubleLE(9 + 24 * i), committed: body.readDoubleLE(17 + 24 * i), lastSeq: body.readDoubleLE(25 + 24 * i) })),
  };
}

export function encodeError(reason: string): Buffer {
  const text = Buffer.from(reason, 'utf8');
  const b = frame(FRAME.error, 1 + text.length);
  b.set(text, 5);
  return b;
}
