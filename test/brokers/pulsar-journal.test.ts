/**
 * The bookie journal check on synthetic journals laid out as BookKeeper 4.17 writes them
 * (512-byte V6 header, length-prefixed entries, padding records to 512-byte alignment,
 * pre-allocated zeros after the data), and through bench/bookie-journal.ts.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bufferSource, journalFiles, journalSummary, JournalFormatError, MIN_ZERO_TAIL, PADDING_MASK, scanJournal, scanJournalFile } from '../../src/brokers/pulsar/journal.ts';

const ALIGN = 512;

/** A journal writer: header, then records, padding each flush to 512 bytes as V5+ does. */
class Journal {
  private readonly parts: Buffer[] = [];
  private size = 0;
  readonly offsets: number[] = [];

  constructor(version = 6) {
    const header = Buffer.alloc(version >= 5 ? 512 : version >= 2 ? 8 : 0);
    if (version >= 2) {
      header.write('BKLG', 0, 'latin1');
      header.writeInt32BE(version, 4);
    }
    this.push(header);
  }

  private push(b: Buffer): void {
    this.parts.push(b);
    this.size += b.length;
  }

  /** an entry as a client sends it: ledger, entry, then payload bytes (never zero at the end) */
  entry(ledger: number, entry: number, length: number): this {
    const e = Buffer.alloc(length, 0x61);
    e.writeBigInt64BE(BigInt(ledger), 0);
    e.writeBigInt64BE(BigInt(entry), 8);
    const len = Buffer.alloc(4);
    len.writeInt32BE(length);
    this.offsets.push(this.size);
    this.push(len);
    this.push(e);
    return this;
  }

  flush(): this {
    const rem = this.size % ALIGN;
    if (rem === 0) return this;
    let padding = ALIGN - rem;
    padding = padding < 8 ? ALIGN - (8 - padding) : padding - 8;
    const p = Buffer.alloc(8 + padding);
    p.writeInt32BE(PADDING_MASK, 0);
    p.writeInt32BE(padding, 4);
    this.push(p);
    return this;
  }

  /** the file: data, then pre-allocated zeros up to `preallocated` bytes */
  bytes(preallocated = 0): Buffer {
    const data = Buffer.concat(this.parts);
    return preallocated > data.length ? Buffer.concat([data, Buffer.alloc(preallocated - data.length)]) : data;
  }
}

const PREALLOC = 256 * 1024;

describe('bookie journal scan', () => {
  it('reads a complete journal: header version, every record, padding skipped, stop at the zero length', () => {
    const j = new Journal().entry(5, -0x1000, 40).entry(5, 0, 1000).flush().entry(5, 1, 70_000).entry(7, 0, 16).flush();
    const scan = scanJournal(bufferSource(j.bytes(PREALLOC)));
    expect(scan.version).toBe(6);
    expect(scan.records).toEqual([
      { ledger: 5, entry: -0x1000, offset: 512, length: 40 },
      { ledger: 5, entry: 0, offset: j.offsets[1], length: 1000 },
      { ledger: 5, entry: 1, offset: j.offsets[2], length: 70_000 },
      { ledger: 7, entry: 0, offset: j.offsets[3], length: 16 },
    ]);
    expect(j.offsets[2]! % ALIGN).toBe(0); // the flush padded to the alignment
    expect(scan.paddingRecords).toBe(2);
    expect(scan.stop).toBe('zero length');
    expect(scan.end).toBe(j.bytes().length);
    expect(scan.torn).toEqual([]);
    expect(journalSummary(scan)).toBe(`journal V6, 4 records, last record ledger 7 entry 0 of 16 bytes at file offset ${j.offsets[3]!.toLocaleString('en-US')}, last record complete`);
  });

  it('reads the older layouts: 8-byte header (V4), no padding records, and no header at all (V1)', () => {
    const v4 = scanJournal(bufferSource(new Journal(4).entry(3, 0, 100).bytes(4096)));
    expect(v4).toMatchObject({ version: 4, records: [{ ledger: 3, entry: 0, offset: 8, length: 100 }], torn: [] });
    const v1 = scanJournal(bufferSource(new Journal(1).entry(3, 0, 100).bytes()));
    expect(v1).toMatchObject({ version: 1, records: [{ ledger: 3, offset: 0 }], stop: 'end of file' });
  });

  it('flags a torn last record: its length and a page-aligned prefix reached the file, the rest is pre-allocated zeros', () => {
    const j = new Journal().entry(5, 2656, 1000).flush().entry(5, 2657, 130_873);
    const file = j.bytes(PREALLOC);
    const tornAt = j.offsets[1]!;
    const keptEnd = Math.ceil((tornAt + 4 + 50_000) / 4096) * 4096; // the pages that made it
    file.fill(0, keptEnd, tornAt + 4 + 130_873);
    const scan = scanJournal(bufferSource(file));
    expect(scan.records.map((r) => r.entry)).toEqual([2656, 2657]); // the replay hands it on
    expect(scan.torn).toEqual([{ ledger: 5, entry: 2657, offset: tornAt, length: 130_873, zeroTail: tornAt + 4 + 130_873 - keptEnd, zeroTailOffset: keptEnd, pageAligned: true, missing: 0 }]);
    expect(journalSummary(scan)).toMatch(
      new RegExp(`, TORN: ledger 5 entry 2657 of 130,873 bytes ends in ${(tornAt + 4 + 130_873 - keptEnd).toLocaleString('en-US')} zero bytes from file offset ${keptEnd.toLocaleString('en-US')} \\(4 KiB-aligned\\)$`),
    );
  });

  it('says when the zeros do not start on a page, and ignores a few zeros that end a real entry', () => {
    const j = new Journal().entry(5, 0, 10_000);
    const file = j.bytes(PREALLOC);
    const end = j.offsets[0]! + 4 + 10_000;
    file.fill(0, end - (MIN_ZERO_TAIL - 1), end);
    expect(scanJournal(bufferSource(file)).torn).toEqual([]);
    file.fill(0, end - 3000, end);
    expect(scanJournal(bufferSource(file)).torn[0]).toMatchObject({ zeroTail: 3000, zeroTailOffset: end - 3000, pageAligned: false });
  });

  it('flags a record cut short by the end of the file (a truncated copy): the replay stops before it', () => {
    const j = new Journal().entry(5, 0, 100).entry(5, 1, 20_000);
    const file = j.bytes().subarray(0, j.offsets[1]! + 4 + 8000);
    const scan = scanJournal(bufferSource(file));
    expect(scan.records.map((r) => r.entry)).toEqual([0]);
    expect(scan.stop).toBe('record past the end of the file');
    expect(scan.torn).toEqual([{ ledger: 5, entry: 1, offset: j.offsets[1], length: 20_000, zeroTail: 0, zeroTailOffset: j.offsets[1]! + 4 + 8000, pageAligned: false, missing: 12_000 }]);
    expect(journalSummary(scan)).toMatch(/TORN: ledger 5 entry 1 of 20,000 bytes runs 12,000 bytes past the end of the file$/);
    // a length field itself cut short is where BookKeeper stops too, and nothing is torn
    expect(scanJournal(bufferSource(j.bytes().subarray(0, j.offsets[1]! + 2)))).toMatchObject({ stop: 'end of file', torn: [] });
  });

  it('stops at a negative length that is not the padding mark, as the replay fails there', () => {
    const file = new Journal().entry(5, 0, 100).bytes(4096);
    file.writeInt32BE(-7, 512 + 104);
    expect(scanJournal(bufferSource(file))).toMatchObject({ stop: 'invalid length', invalidLength: -7, end: 616 });
    expect(journalSummary(scanJournal(bufferSource(file)))).toMatch(/INVALID: record length -7 at file offset 616/);
  });

  it('refuses a version BookKeeper does not read', () => {
    const file = new Journal().bytes(1024);
    file.writeInt32BE(9, 4);
    expect(() => scanJournal(bufferSource(file))).toThrow(JournalFormatError);
  });
});

describe('bench/bookie-journal.ts', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-journal-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function run(target: string): { code: number; out: string } {
    try {
      return { code: 0, out: execFileSync('npx', ['tsx', 'bench/bookie-journal.ts', target], { encoding: 'utf8', stdio: 'pipe' }) };
    } catch (e) {
      const err = e as { status: number; stdout: string; stderr: string };
      return { code: err.status, out: err.stdout + err.stderr };
    }
  }

  it('prints a line per journal file, oldest first, and exits 1 on a torn record, 2 on bad input', () => {
    const current = path.join(dir, 'data', 'bookkeeper', 'current');
    fs.mkdirSync(current, { recursive: true });
    fs.writeFileSync(path.join(current, '19a0000000a.txn'), new Journal().entry(5, 0, 100).bytes(8192));
    const torn = new Journal().entry(9, 0, 9000);
    const tornFile = torn.bytes(16384);
    tornFile.fill(0, 4096, 512 + 4 + 9000);
    fs.writeFileSync(path.join(current, '19a0000000b.txn'), tornFile);
    expect(journalFiles(dir).map((f) => path.basename(f))).toEqual(['19a0000000a.txn', '19a0000000b.txn']);
    expect(scanJournalFile(path.join(current, '19a0000000b.txn')).torn).toHaveLength(1);

    const all = run(dir);
    expect(all.code).toBe(1);
    const lines = all.out.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/19a0000000a\.txn: journal V6, 1 record, .*last record complete$/);
    expect(lines[1]).toMatch(/19a0000000b\.txn: .*TORN: ledger 9 entry 0 of 9,000 bytes ends in 5,420 zero bytes from file offset 4,096 \(4 KiB-aligned\)$/);
    expect(run(path.join(current, '19a0000000a.txn')).code).toBe(0);
    expect(run(path.join(dir, 'missing'))).toMatchObject({ code: 2, out: expect.stringMatching(/no such file or folder/) });
    fs.mkdirSync(path.join(dir, 'empty'));
    expect(run(path.join(dir, 'empty'))).toMatchObject({ code: 2, out: expect.stringMatching(/no bookie journal \(\*\.txn\) under it/) });
  });
});
