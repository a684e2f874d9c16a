/**
 * Frames of the Pulsar binary protocol, on bytes only (no sockets here).
 *
 *   simple command   [totalSize u32][commandSize u32][BaseCommand]
 *   payload command  [totalSize u32][commandSize u32][BaseCommand]
 *                    [magic 0x0e01 u16][CRC32C u32][metadataSize u32][MessageMetadata][payload]
 *
 * All integers are big-endian. totalSize counts every byte after itself; the CRC32C
 * covers everything after itself (metadataSize, metadata and payload). The broker stores
 * the part from the magic on as the entry and sends it back unchanged to consumers, so
 * the producer's checksum is verified end to end. Entries from producers that sent no
 * checksum have no magic (the metadata size follows the command directly).
 *
 * With the client feature flag supports_broker_entry_metadata (we leave it off) a
 * broker would prefix [magic 0x0e02][size u32][BrokerEntryMetadata]; the parser skips it.
 */
import { crc32c } from './crc32c.ts';
import { protocolError } from './errors.ts';

export const MAGIC_CRC32C = 0x0e01;
export const MAGIC_BROKER_ENTRY_METADATA = 0x0e02;
/** The broker's default maxMessageSize; CONNECTED tells the actual one. */
export const DEFAULT_MAX_MESSAGE_SIZE = 5 * 1024 * 1024;
/** Room for command and metadata on top of a maximal message (the broker allows 10 KiB). */
export const FRAME_PADDING = 10 * 1024;

export function writeU32(buf: Uint8Array, pos: number, v: number): void {
  buf[pos] = v >>> 24;
  buf[pos + 1] = v >>> 16;
  buf[pos + 2] = v >>> 8;
  buf[pos + 3] = v;
}

export function readU32(buf: Uint8Array, pos: number): number {
  return ((buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!) >>> 0;
}

function readU16(buf: Uint8Array, pos: number): number {
  return (buf[pos]! << 8) | buf[pos + 1]!;
}

/** A whole frame for a command without payload. */
export function encodeSimpleFrame(command: Uint8Array): Uint8Array {
  const frame = new Uint8Array(8 + command.length);
  writeU32(frame, 0, 4 + command.length);
  writeU32(frame, 4, command.length);
  frame.set(command, 8);
  return frame;
}

/**
 * A whole payload frame from its parts (the general path: tests, single sends through
 * protobufjs-encoded metadata). The producer's hot path builds frames in place (batch.ts).
 */
export function encodePayloadFrame(command: Uint8Array, metadata: Uint8Array, payload: Uint8Array): Uint8Array {
  const total = 4 + command.length + 2 + 4 + 4 + metadata.length + payload.length;
  const frame = new Uint8Array(4 + total);
  let pos = 0;
  writeU32(frame, pos, total);
  writeU32(frame, (pos += 4), command.length);
  frame.set(command, (pos += 4));
  pos += command.length;
  frame[pos++] = MAGIC_CRC32C >>> 8;
  frame[pos++] = MAGIC_CRC32C & 0xff;
  const crcAt = pos;
  pos += 4;
  writeU32(frame, pos, metadata.length);
  frame.set(metadata, pos + 4);
  frame.set(payload, pos + 4 + metadata.length);
  writeU32(frame, crcAt, crc32c(frame, crcAt + 4));
  return frame;
}

/**
 * Where the parts of one received frame lie. `buf` holds the frame without its totalSize
 * field (what FrameReader hands out). Reused: parseFrame fills it in place.
 */
export class ParsedFrame {
  buf: Uint8Array = new Uint8Array(0);
  commandStart = 0;
  commandEnd = 0;
  /** false for simple commands: the fields below are then meaningless */
  hasPayload = false;
  /** whether the entry carries a checksum (magic 0x0e01) */
  hasChecksum = false;
  checksum = 0;
  /** start of what the checksum covers (the metadata size field) */
  checksumStart = 0;
  metadataStart = 0;
  metadataEnd = 0;
  payloadStart = 0;
  payloadEnd = 0;

  /** Whether the CRC32C matches (true when the entry has none). */
  checksumOk(): boolean {
    return !this.hasChecksum || crc32c(this.buf, this.checksumStart, this.payloadEnd) === this.checksum;
  }
}

/** Splits a frame (without totalSize) into command, metadata and payload. */
export function parseFrame(frame: Uint8Array, out: ParsedFrame = new ParsedFrame()): ParsedFrame {
  const end = frame.length;
  if (end < 4) throw protocolError(`frame of ${end} bytes has no command size`);
  const cmdSize = readU32(frame, 0);
  if (4 + cmdSize > end) throw protocolError(`command size ${cmdSize} exceeds its frame (${end} bytes)`);
  out.buf = frame;
  out.commandStart = 4;
  out.commandEnd = 4 + cmdSize;
  out.hasPayload = out.commandEnd < end;
  out.hasChecksum = false;
  if (!out.hasPayload) return out;

  let pos = out.commandEnd;
  if (pos + 2 <= end && readU16(frame, pos) === MAGIC_BROKER_ENTRY_METADATA) {
    if (pos + 6 > end) throw protocolError('truncated broker entry metadata');
    pos += 6 + readU32(frame, pos + 2);
  }
  if (pos + 2 <= end && readU16(frame, pos) === MAGIC_CRC32C) {
    if (pos + 6 > end) throw protocolError('truncated checksum');
    out.hasChecksum = true;
    out.checksum = readU32(frame, pos + 2);
    pos += 6;
  }
  if (pos + 4 > end) throw protocolError('payload frame without metadata size');
  out.checksumStart = pos;
  const metaSize = readU32(frame, pos);
  out.metadataStart = pos + 4;
  out.metadataEnd = out.metadataStart + metaSize;
  if (out.metadataEnd > end) throw protocolError(`metadata size ${metaSize} exceeds its frame`);
  out.payloadStart = out.metadataEnd;
  out.payloadEnd = end;
  return out;
}

/**
 * Cuts a byte stream into frames. Each frame (the bytes after its totalSize) goes to
 * `onFrame`; a frame that lies inside one chunk is handed out as a view of the chunk, not
 * copied; only frames split across chunks are assembled into their own buffer.
 */
export class FrameReader {
  private partial: Uint8Array | null = null;
  private filled = 0;
  private readonly head = new Uint8Array(4);
  private headFilled = 0;

  constructor(
    private readonly onFrame: (frame: Uint8Array) => void,
    /** largest acceptable totalSize; anything larger means a corrupt or foreign stream */
    public maxFrameSize: number = DEFAULT_MAX_MESSAGE_SIZE + FRAME_PADDING,
  ) {}

  push(chunk: Uint8Array): void {
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      const partial = this.partial;
      if (partial) {
        const n = Math.min(partial.length - this.filled, len - pos);
        partial.set(chunk.subarray(pos, pos + n), this.filled);
        this.filled += n;
        pos += n;
        if (this.filled === partial.length) {
          this.partial = null;
          this.onFrame(partial);
        }
        continue;
      }
      let size: number;
      if (this.headFilled > 0 || len - pos < 4) {
        while (this.headFilled < 4 && pos < len) this.head[this.headFilled++] = chunk[pos++]!;
        if (this.headFilled < 4) return;
        this.headFilled = 0;
        size = this.checkSize(readU32(this.head, 0));
      } else {
        size = this.checkSize(readU32(chunk, pos));
        pos += 4;
      }
      if (len - pos >= size) {
        const frame = chunk.subarray(pos, pos + size);
        pos += size;
        this.onFrame(frame);
      } else {
        this.partial = new Uint8Array(size);
        this.filled = 0;
      }
    }
  }

  /** bytes of a frame received only in part (0 between frames) */
  get pending(): number {
    return this.partial ? this.filled + 4 : this.headFilled;
  }

  private checkSize(size: number): number {
    if (size < 4 || size > this.maxFrameSize) throw protocolError(`frame size ${size} outside [4, ${this.maxFrameSize}]`);
    return size;
  }
}
