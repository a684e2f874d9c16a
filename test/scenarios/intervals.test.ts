import { describe, expect, it } from 'vitest';
import { LatencyRecorder } from '../../src/core/histogram.ts';
import { ascendingUnion, IntervalReducer, type IntervalReport } from '../../src/harness/intervals.ts';
import { rng } from '../report/fixtures.ts';

function randomRecorder(next: () => number, n: number): LatencyRecorder {
  const r = new LatencyRecorder();
  for (let i = 0; i < n; i++) r.record(Math.floor(1e4 + next() * next() * 5e7));
  return r;
}

function report(index: number, r: LatencyRecorder, kind = 'e2e'): IntervalReport {
  return { kind, index, received: r.total, hist: r.toSparse() };
}

describe('IntervalReducer', () => {
  it('keeps a bounded number of intervals open over 10,000 intervals and summarizes each exactly as its full histogram', () => {
    const next = rng(7);
    const reducer = new IntervalReducer([{ name: 'e2e', expected: 2 }]);
    const full = new Map<number, LatencyRecorder>();
    // consumer b reports every 97th interval three intervals late, within the bound
    const delayed = new Map<number, IntervalReport>();
    let maxOpen = 0;
    for (let i = 0; i < 10_000; i++) {
      const a = randomRecorder(next, 1 + Math.floor(next() * 40));
      const b = randomRecorder(next, Math.floor(next() * 40));
      reducer.report(report(i, a));
      if (i % 97 === 3) delayed.set(i + 3, report(i, b));
      else reducer.report(report(i, b));
      const due = delayed.get(i);
      if (due) reducer.report(due);
      if (i % 50 === 3) {
        const f = new LatencyRecorder();
        f.add(a);
        f.add(b);
        full.set(i, f);
      }
      maxOpen = Math.max(maxOpen, reducer.openIntervals);
    }
    reducer.finish();
    // between iterations only a delayed interval is open; within one, it and the current one
    expect(maxOpen).toBe(1);
    expect(reducer.recordersAllocated).toBe(2);
    expect(reducer.count).toBe(10_000);
    expect(full.size).toBe(200);
    for (const [index, f] of full) {
      const s = reducer.summary('e2e', index)!;
      const want = f.summary();
      expect({ index, received: s.received, count: s.count, p50: s.p50, p99: s.p99, max: s.max, incomplete: s.incomplete, late: s.late }).toEqual({
        index,
        received: f.total,
        count: want.count,
        p50: want.p50,
        p99: want.p99,
        max: want.max,
        incomplete: false,
        late: 0,
      });
    }
  });

  it('closes intervals of a worker that stopped reporting once they are maxOpen behind, marked incomplete', () => {
    const next = rng(11);
    const reducer = new IntervalReducer([{ name: 'e2e', expected: 2 }], undefined, 4);
    let maxOpen = 0;
    for (let i = 0; i < 10_000; i++) {
      reducer.report(report(i, randomRecorder(next, 3)));
      if (i < 100) reducer.report(report(i, randomRecorder(next, 2)));
      maxOpen = Math.max(maxOpen, reducer.openIntervals);
    }
    expect(maxOpen).toBe(4);
    expect(reducer.recordersAllocated).toBe(5);
    reducer.finish();
    expect(reducer.openIntervals).toBe(0);
    expect(reducer.summary('e2e', 99)).toMatchObject({ received: 5, count: 5, incomplete: false });
    expect(reducer.summary('e2e', 100)).toMatchObject({ received: 3, count: 3, incomplete: true });
    expect(reducer.summary('e2e', 9_999)).toMatchObject({ received: 3, incomplete: true });
  });

  it('counts a report that comes after its interval closed, and writes it to the sink', () => {
    const lines: Array<{ index: number; count: number }> = [];
    const reducer = new IntervalReducer([{ name: 'e2e', expected: 2 }], (_k, index, h) => lines.push({ index, count: h.total }), 2);
    const r = (n: number): LatencyRecorder => {
      const x = new LatencyRecorder();
      x.recordMany(1000, n);
      return x;
    };
    reducer.report(report(0, r(4)));
    reducer.report(report(1, r(1)));
    reducer.report(report(1, r(1)));
    reducer.report(report(2, r(1)));
    // interval 0 is now 2 behind interval 2: closed with one of its two reports
    expect(reducer.summary('e2e', 0)).toMatchObject({ received: 4, count: 4, incomplete: true, late: 0 });
    reducer.report(report(0, r(6)));
    expect(reducer.summary('e2e', 0)).toMatchObject({ received: 10, count: 4, incomplete: true, late: 1 });
    expect(lines).toEqual([
      { index: 1, count: 2 },
      { index: 0, count: 4 },
      { index: 0, count: 6 },
    ]);
  });

  it('closes an interval only when every kind has all its reports', () => {
    const reducer = new IntervalReducer([
      { name: 'e2e', expected: 1 },
      { name: 'send-delay', expected: 2 },
    ]);
    const one = new LatencyRecorder();
    one.record(5000);
    reducer.report(report(0, one));
    reducer.report(report(0, one, 'send-delay'));
    expect(reducer.summary('e2e', 0)).toBeUndefined();
    expect(reducer.latest('e2e')).toBeUndefined();
    reducer.report(report(0, one, 'send-delay'));
    expect(reducer.summary('e2e', 0)).toMatchObject({ count: 1, p99: 5 });
    expect(reducer.summary('send-delay', 0)).toMatchObject({ count: 2, received: 2 });
    expect(reducer.latest('e2e')).toMatchObject({ count: 1 });
    expect(() => reducer.report(report(1, one, 'publish'))).toThrow(/unknown kind "publish"; known: e2e, send-delay/);
  });

  it('gives the sink each closing interval\'s nonzero buckets once each, ascending, whatever order the reports came in', () => {
    const next = rng(11);
    const seen: Array<{ kind: string; buckets: number[]; counts: number[] }> = [];
    const reducer = new IntervalReducer([{ name: 'e2e', expected: 3 }], (kind, _index, rec, buckets) => {
      seen.push({ kind, buckets: Array.from(buckets), counts: Array.from(buckets, (i) => rec.counts[i]!) });
    });
    const parts = [randomRecorder(next, 500), randomRecorder(next, 300), randomRecorder(next, 1)];
    for (const r of parts) reducer.report(report(0, r));
    const full = new LatencyRecorder();
    for (const r of parts) full.add(r);
    const want = full.toSparse();
    expect(seen).toEqual([{ kind: 'e2e', buckets: want.idx, counts: want.cnt }]);
  });
});

describe('packed interval snapshots (what workers post)', () => {
  it('hold what toSparse holds, and reduce to the same summaries and sink buckets', () => {
    const next = rng(23);
    const r = randomRecorder(next, 2000);
    r.recordMany(7_000, 3e9); // a count past a small integer's range
    const sparse = r.toSparse();
    const packed = r.toPacked();
    expect({ idx: Array.from(packed.idx), cnt: Array.from(packed.cnt), clamped: packed.clamped, negative: packed.negative, minNs: packed.minNs, maxNs: packed.maxNs }).toEqual(sparse);
    const seen: Array<{ buckets: number[]; counts: number[] }> = [];
    const run = (hist: IntervalReport['hist']): IntervalReducer => {
      const reducer = new IntervalReducer([{ name: 'e2e', expected: 1 }], (_kind, _index, rec, buckets) => {
        seen.push({ buckets: Array.from(buckets), counts: Array.from(buckets, (i) => rec.counts[i]!) });
      });
      reducer.report({ kind: 'e2e', index: 0, received: r.total, hist });
      return reducer;
    };
    const a = run(sparse).summary('e2e', 0);
    const b = run(structuredClone(packed)).summary('e2e', 0);
    expect(b).toEqual(a);
    expect(a).toMatchObject({ count: r.total });
    expect(seen[1]).toEqual(seen[0]);
  });
});

describe('ascendingUnion', () => {
  it('returns a single ascending list as it is, and merges several without repeats', () => {
    const one = [1, 5, 9];
    expect(ascendingUnion([one])).toBe(one);
    expect(ascendingUnion([[1, 5, 9], [2, 5, 10], []])).toEqual([1, 2, 5, 9, 10]);
    expect(ascendingUnion([])).toEqual([]);
  });

  it('sorts lists that do not ascend (a report from elsewhere) instead of trusting them', () => {
    expect(ascendingUnion([[9, 1, 5]])).toEqual([1, 5, 9]);
    expect(ascendingUnion([[3, 3, 4], [1]])).toEqual([1, 3, 4]);
  });

  it('agrees with sorting the Set of every index on random lists', () => {
    const next = rng(5);
    for (let round = 0; round < 200; round++) {
      const lists = Array.from({ length: 1 + Math.floor(next() * 4) }, () => [...new Set(Array.from({ length: Math.floor(next() * 50) }, () => Math.floor(next() * 100)))].sort((a, b) => a - b));
      expect(ascendingUnion(lists)).toEqual([...new Set(lists.flat())].sort((a, b) => a - b));
    }
  });
});
