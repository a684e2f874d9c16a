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

  it('carries each producer’s acks too late to be timed, by whole-run producer id', () => {
    const [a, b] = [new ProducerLedger(0), new ProducerLedger(1)];
    const compact = compactLedger({ producers: [a.snapshot(), b.snapshot()], consumers: [], publishMissed: new Map([[1, 9]]) }, 4, 0);
    expect(compact.producers.map((p) => p.publishMissed)).toEqual([undefined, 9]);
    expect(expandLedger(JSON.parse(JSON.stringify(compact))).publishMissed).toEqual(new Map([[5, 9]]));
  });

  it('a verdict taken first leaves the consumers’ snapshots as they were (a shard writes them after it)', () => {
    const p = new ProducerLedger(0);
    p.sent = 256;
    p.acked(0, 256);
    const [a, b] = [new ConsumerLedger(0), new ConsumerLedger(1)];
    // two consumers sharing the producer's messages batch by batch, as a work queue does
    for (let seq = 0; seq < 256; seq++) ((seq >> 6) % 2 ? b : a).record(0, seq);
    const snaps = [a.snapshot(), b.snapshot()];
    expect(reconcile([p.snapshot()], snaps).counts.duplicated).toBe(0);
    const compact = compactLedger({ producers: [p.snapshot()], consumers: snaps }, 0, 0);
    expect(compact.consumers.map((c) => c.perProducer[0]!.received)).toEqual([[0, 64, 128, 192], [64, 128, 192, 256]]);
    const parts = expandLedger(compact);
    expect(reconcile(parts.producers, parts.consumers).counts.duplicated).toBe(0);
  });
});
