/**
 * The compact ledger a shard writes: sequence sets as ranges, and back, exactly; and the
 * delivery verdict of ledgers that went through that form is the verdict of the originals.
 */
import { describe, expect, it } from 'vitest';
import { SeqSet } from '../../src/checks/seqset.ts';
import { ConsumerLedger, ProducerLedger, reconcile } from '../../src/checks/ledger.ts';
import { compactLedger, expandLedger } from '../../src/checks/shard-ledger.ts';

const members = (s: SeqSet, upTo: number): number[] => Array.from({ length: upTo }, (_, i) => i).filter((i) => s.has(i));

describe('SeqSet ranges', () => {
  it('round-trips holes, chunk edges and full chunks', () => {
    const s = new SeqSet();
    s.addRange(0, 65_536 * 2 + 10); // two full chunks and a bit
    s.add(200_000);
    s.addRange(65_536 * 3 - 5, 10); // across a chunk boundary
    const r = s.ranges();
    expect(r).toEqual([0, 131_082, 196_603, 196_613, 200_000, 200_001]);
    const back = SeqSet.fromRanges(r);
    expect(back.size).toBe(s.size);
    expect(members(back, 210_000)).toEqual(members(s, 210_000));
    expect(new SeqSet().ranges()).toEqual([]);
  });

  it('refuses malformed ranges', () => {
    expect(() => SeqSet.fromRanges([0])).toThrow(/odd length/);
    expect(() => SeqSet.fromRanges([5, 3])).toThrow(/not a sorted/);
    expect(() => SeqSet.fromRanges([0, 4, 2, 6])).toThrow(/not a sorted/);
  });
});

describe('compactLedger / expandLedger', () => {
  it('offsets ids into the whole run and keeps the verdict', () => {
    const p = new ProducerLedger(0);
    p.sent = 1000;
    p.acked(0, 900);
    p.unknown(900, 100, 'timeout');
    const c = new ConsumerLedger(0);
    for (let seq = 0; seq < 1000; seq++) if (seq !== 17 && seq !== 950) c.record(0, seq);
    c.record(0, 3); // a duplicate
    const original = reconcile([p.snapshot()], [c.snapshot()]);
    const compact = compactLedger({ producers: [p.snapshot()], consumers: [c.snapshot()] }, 4, 2);
    expect(compact.producers[0]!.producerId).toBe(4);
    expect(compact.consumers[0]!.consumerId).toBe(2);
    expect(compact.producers[0]!.acked).toEqual([0, 900]);
    expect(compact.consumers[0]!.perProducer[0]!.received).toEqual([0, 17, 18, 950, 951, 1000]);
    const parts = expandLedger(JSON.parse(JSON.stringify(compact)));
    const again = reconcile(parts.producers, parts.consumers);
    expect(again.counts).toEqual(original.counts);
    expect(again.counts.lost).toBe(2);
    expect(again.counts.ackedLost).toBe(1);
    expect(again.problems.join('\n')).toContain('producer 4: 2 lost, e.g. seq 17, 950');
  });
});
