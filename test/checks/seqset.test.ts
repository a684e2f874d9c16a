import { describe, expect, it } from 'vitest';
import { SeqSet } from '../../src/checks/seqset.ts';

describe('SeqSet', () => {
  it('detects duplicates and counts members across chunk boundaries', () => {
    const s = new SeqSet();
    expect(s.add(5)).toBe(true);
    expect(s.add(5)).toBe(false);
    expect(s.addRange(65530, 20)).toBe(0);
    expect(s.addRange(65540, 5)).toBe(5);
    expect(s.size).toBe(21);
    expect(s.has(65549)).toBe(true);
    expect(s.has(65550)).toBe(false);
    expect(s.countBelow(65536)).toBe(7);
  });

  it('collapses full chunks so a long in-order run costs no memory', () => {
    const s = new SeqSet();
    s.addRange(0, 65536 * 4);
    expect(s.size).toBe(65536 * 4);
    expect(s.footprintBytes).toBe(0);
    expect(s.add(1000)).toBe(false);
    s.add(65536 * 4 + 1);
    expect(s.footprintBytes).toBe(8192);
  });

  it('merges and finds what one set lacks', () => {
    const a = new SeqSet();
    const b = new SeqSet();
    a.addRange(0, 100_000);
    b.addRange(50_000, 100_000);
    const missing = a.countMissingFrom(b);
    expect(missing).toBe(50_000);
    const overlap = a.addAll(b);
    expect(overlap).toBe(50_000);
    expect(a.size).toBe(150_000);
    expect(a.countBelow(150_000)).toBe(150_000);
    expect(a.firstAbsent(150_002, 5)).toEqual([150_000, 150_001]);
  });

  it('survives a snapshot round trip', () => {
    const a = new SeqSet();
    for (let i = 0; i < 200_000; i += 3) a.add(i);
    a.addRange(300_000, 65536 * 2);
    const b = SeqSet.fromSnapshot(a.snapshot());
    expect(b.size).toBe(a.size);
    expect(a.countMissingFrom(b)).toBe(0);
    expect(b.countMissingFrom(a)).toBe(0);
  });
});
