/**
 * A bookie journal file read the way BookKeeper replays it, to find a torn last record:
 * one whose length reached the disk but whose bytes did not all follow. The replay has no
 * per-record checksum, so it hands such a record to the ledger storage as a whole entry;
 * ledger recovery then reads it back as the last entry and its digest fails.
 *
 * The format, as BookKeeper 4.17 (Pulsar 4.0's) writes and reads it (JournalChannel,
 * Journal.scanJournal, Journal.writePaddingBytes):
 *   - header: "BKLG", then the format version (int32 BE). V5 and later pad the header to
 *     512 bytes (one sector); V2-V4 have just those 8 bytes; V1 files have no header.
 *     Pulsar 4.0 writes V6 (journalFormatVersionToWrite).
 *   - records: length (int32 BE), then that many bytes of entry: ledger id (int64 BE),
 *     entry id (int64 BE; negative for the bookie's own records: -0x1000 ledger key,
 *     -0x2000 fence, -0x4000 force-ledger, -0x8000 explicit LAC), then the entry as the
 *     client sent it.
 *   - V5+: a flush is padded to journalAlignmentSize (512 by default) with a padding
 *     record: length -0x100, then the padding length (int32 BE), then that many zeros; a
 *     padding length of 0 is a record of its own 8 bytes.
 *   - the file is pre-allocated with zeros (journalPreAllocSizeMB), so the end of the
 *     data is a length of 0; the replay also stops at a length or record cut short by the
 *     end of the file. A negative length other than the padding mark fails the replay.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BusbenchError } from '../../core/errors.ts';

export const JOURNAL_MAGIC = 'BKLG';
export const PADDING_MASK = -0x100;
const SECTOR = 512;
const PAGE = 4096;
/** oldest and newest versions BookKeeper 4.17 reads */
const VERSIONS = { min: 1, max: 6 };
/**
 * Fewer zeros than this at the end of a record are taken for data: a real entry may end
 * in a zero byte or two (a protobuf field, a counter), while what a torn write leaves is
 * the pre-allocated zeros of whole lost pages.
 */
export const MIN_ZERO_TAIL = 16;

/** A journal that cannot be read at all: not a journal, or a version BookKeeper does not know. */
export class JournalFormatError extends BusbenchError {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'JournalFormatError';
  }
}

/** Positioned reads, so a multi-GiB journal need not be in memory. */
export interface ByteSource {
  readonly size: number;
  /** up to `length` bytes from `offset` (fewer at the end) */
  read(offset: number, length: number): Buffer;
}

export interface JournalRecord {
  ledger: number;
  /** negative for the bookie's own records (ledger key, fence, explicit LAC) */
  entry: number;
  /** file offset of the record's length field */
  offset: number;
  /** the entry's bytes, as the length field says */
  length: number;
}

export interface TornRecord extends JournalRecord {
  /** zeros the record ends in (those of them inside the file) */
  zeroTail: number;
  /** file offset where they start */
  zeroTailOffset: number;
  /** whether that offset is a multiple of 4 KiB: where a page that never reached the disk begins */
  pageAligned: boolean;
  /** bytes the length promises beyond the end of the file (0 when the file holds them all) */
  missing: number;
}

export interface JournalScan {
  version: number;
  /** every record the replay hands on, in file order: one that ends in zeros included, one cut short by the end of the file not */
  records: JournalRecord[];
  paddingRecords: number;
  /** file offset where a replay stops */
  end: number;
  /** why it stops there */
  stop: 'zero length' | 'end of file' | 'record past the end of the file' | 'invalid length';
  /** set when stop is 'invalid length': the negative length found, which fails BookKeeper's replay */
  invalidLength?: number;
  /** records ending in a zero tail, or cut short by the end of the file */
  torn: TornRecord[];
}

export function bufferSource(buf: Buffer): ByteSource {
  return { size: buf.length, read: (offset, length) => buf.subarray(offset, Math.min(buf.length, offset + length)) };
}

function headerOf(src: ByteSource): { version: number; start: number } {
  const head = src.read(0, 8);
  if (head.length < 8 || head.subarray(0, 4).toString('latin1') !== JOURNAL_MAGIC) return { version: 1, start: 0 };
  const version = head.readInt32BE(4);
  if (version < VERSIONS.min || version > VERSIONS.max) throw new JournalFormatError(`journal format version ${version} is not one BookKeeper reads (${VERSIONS.min}-${VERSIONS.max})`);
  return { version, start: version >= 5 ? SECTOR : version >= 2 ? 8 : 0 };
}

/** Zeros at the end of [from, to), counted backwards a chunk at a time. */
function zeroTailOf(src: ByteSource, from: number, to: number): number {
  const CHUNK = 64 * 1024;
  let end = to;
  while (end > from) {
    const start = Math.max(from, end - CHUNK);
    const chunk = src.read(start, end - start);
    for (let i = chunk.length - 1; i >= 0; i--) if (chunk[i] !== 0) return to - (start + i + 1);
    end = start;
  }
  return to - from;
}

/** The record at `offset` of `length` entry bytes: torn when it ends in zeros or runs past the file. */
function tornOrNot(src: ByteSource, record: JournalRecord): TornRecord | undefined {
  const body = record.offset + 4;
  const inFile = Math.min(src.size, body + record.length);
  const missing = body + record.length - inFile;
  const zeroTail = zeroTailOf(src, body, inFile);
  if (missing === 0 && zeroTail < MIN_ZERO_TAIL) return undefined;
  const zeroTailOffset = inFile - zeroTail;
  return { ...record, zeroTail, zeroTailOffset, pageAligned: zeroTail > 0 && zeroTailOffset % PAGE === 0, missing };
}

function recordAt(src: ByteSource, offset: number, length: number): JournalRecord {
  const ids = src.read(offset + 4, Math.min(16, length));
  const id = (at: number): number => (ids.length >= at + 8 ? Number(ids.readBigInt64BE(at)) : -1);
  return { ledger: id(0), entry: id(8), offset, length };
}

/** Reads a journal as Journal.scanJournal does, and checks each record for a torn end. */
export function scanJournal(src: ByteSource): JournalScan {
  const { version, start } = headerOf(src);
  const scan: JournalScan = { version, records: [], paddingRecords: 0, end: start, stop: 'end of file', torn: [] };
  let pos = start;
  for (;;) {
    if (pos + 4 > src.size) break;
    const len = src.read(pos, 4).readInt32BE(0);
    if (len === 0) {
      scan.stop = 'zero length';
      break;
    }
    if (len === PADDING_MASK && version >= 5) {
      if (pos + 8 > src.size) break;
      const padding = src.read(pos + 4, 4).readInt32BE(0);
      if (padding < 0) {
        scan.stop = 'invalid length';
        scan.invalidLength = padding;
        break;
      }
      if (pos + 8 + padding > src.size) break;
      scan.paddingRecords++;
      pos += 8 + padding;
      continue;
    }
    if (len < 0) {
      scan.stop = 'invalid length';
      scan.invalidLength = len;
      break;
    }
    const record = recordAt(src, pos, len);
    const torn = tornOrNot(src, record);
    if (torn) scan.torn.push(torn);
    if (torn && torn.missing > 0) {
      // The replay stops here without the record: nothing of it reaches the ledger storage.
      scan.stop = 'record past the end of the file';
      break;
    }
    scan.records.push(record);
    pos += 4 + len;
  }
  scan.end = pos;
  return scan;
}

/** scanJournal over a file on disk. */
export function scanJournalFile(file: string): JournalScan {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    return scanJournal({
      size,
      read(offset, length) {
        const buf = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
        const n = fs.readSync(fd, buf, 0, buf.length, offset);
        return buf.subarray(0, n);
      },
    });
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The journal files under `target` (a .txn file, or a folder searched to any depth: a run
 * folder, <dir>/data/bookkeeper, or its current/ folder), oldest first (their names are
 * hexadecimal creation times).
 */
export function journalFiles(target: string): string[] {
  if (!fs.existsSync(target)) throw new JournalFormatError(`${target}: no such file or folder`);
  if (!fs.statSync(target).isDirectory()) return [target];
  const found = fs
    .readdirSync(target, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.txn'))
    .map((f) => path.join(target, f));
  const id = (f: string): bigint => BigInt(`0x${/^([0-9a-f]+)\.txn$/i.exec(path.basename(f))?.[1] ?? '0'}`);
  return found.sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : a.localeCompare(b)));
}

const n = (v: number): string => v.toLocaleString('en-US');
const counted = (v: number, what: string): string => `${n(v)} ${what}${v === 1 ? '' : 's'}`;

function tornText(t: TornRecord): string {
  const what = `ledger ${t.ledger} entry ${t.entry} of ${n(t.length)} bytes`;
  const zeros = t.zeroTail > 0 ? `ends in ${n(t.zeroTail)} zero bytes from file offset ${n(t.zeroTailOffset)} (${t.pageAligned ? '4 KiB-aligned' : 'not 4 KiB-aligned'})` : '';
  const past = t.missing > 0 ? `runs ${n(t.missing)} bytes past the end of the file` : '';
  return `TORN: ${what} ${[zeros, past].filter(Boolean).join(' and ')}`;
}

/**
 * One line: records, the last one, and the verdict ("TORN: ledger 5 entry 2657 of 130,873
 * bytes ends in 11,581 zero bytes from file offset 1,234,944 (4 KiB-aligned)", or "last
 * record complete").
 */
export function journalSummary(scan: JournalScan): string {
  const last = scan.records.at(-1);
  const parts = [`journal V${scan.version}`, counted(scan.records.length, 'record')];
  if (last) parts.push(`last record ledger ${last.ledger} entry ${last.entry} of ${n(last.length)} bytes at file offset ${n(last.offset)}`);
  const [first, ...more] = scan.torn;
  if (first) parts.push(tornText(first) + (more.length > 0 ? ` (and ${counted(more.length, 'more torn record')})` : ''));
  if (scan.invalidLength !== undefined) parts.push(`INVALID: record length ${scan.invalidLength} at file offset ${n(scan.end)} (BookKeeper's replay fails there)`);
  if (!first && scan.invalidLength === undefined) parts.push(last ? 'last record complete' : 'no records');
  return parts.join(', ');
}

/** Whether a journal holds a record the replay would mishandle. */
export function journalDamaged(scan: JournalScan): boolean {
  return scan.torn.length > 0 || scan.invalidLength !== undefined;
}
