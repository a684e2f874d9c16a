import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as hdr from 'hdr-histogram-js';
import { encodeBuckets, encodeHdr, HIGHEST_TRACKABLE_NS, LatencyRecorder } from '../../src/core/histogram.ts';
import { HlogWriter } from '../../src/core/hlog.ts';
import { RunIntervals } from '../../src/harness/intervals.ts';
import { writeResultFiles } from '../../src/report/io/files.ts';
import { RESULT_SCHEMA, type RunResult, type SystemResult } from '../../src/core/result.ts';
import { monoNs } from '../../src/core/clock.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-hlog-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every interval line of a log, read with hdr-histogram-js's own HistogramLogReader. */
function readAll(file: string): Array<{ tag: string; startSec: number; endSec: number; h: hdr.Histogram }> {
  const reader = new hdr.HistogramLogReader(fs.readFileSync(file, 'utf8'));
  const out: Array<{ tag: string; startSec: number; endSec: number; h: hdr.Histogram }> = [];
  for (let h = reader.nextIntervalHistogram(); h; h = reader.nextIntervalHistogram()) out.push({ tag: h.tag, startSec: h.startTimeStampMsec / 1000, endSec: h.endTimeStampMsec / 1000, h });
  return out;
}

function writeRun(file: string, intervals: number): { run: RunIntervals; total: number; perInterval: number[] } {
  const run = new RunIntervals(file, 100, [[{ name: 'e2e', expected: 2 }]]);
  const t0 = monoNs();
  run.start(t0, t0);
  const perInterval: number[] = [];
  let total = 0;
  for (let i = 0; i < intervals; i++) {
    let n = 0;
    for (let c = 0; c < 2; c++) {
      const r = new LatencyRecorder();
      for (let k = 0; k < i + c; k++) r.record(1000 * (k + 1) + 7 * i);
      n += r.total;
      run.report({ kind: 'e2e', index: i, received: r.total, hist: r.toSparse() });
    }
    perInterval.push(n);
    total += n;
  }
  return { run, total, perInterval };
}

describe('interval log (.hlog)', () => {
  it('is an HdrHistogram log whose interval histograms sum to the counts the run recorded', () => {
    const file = path.join(dir, 'a.hlog.tmp');
    const { run, total, perInterval } = writeRun(file, 50);
    expect(run.finish()).toBe(file);
    const text = fs.readFileSync(file, 'utf8');
    const lines = text.split('\n');
    expect(lines[0]).toBe('#[Histogram log format version 1.3]');
    expect(lines[1]).toMatch(/^#\[StartTime: \d+\.\d{3} \(seconds since epoch\), .+\]$/);
    expect(lines[2]).toMatch(/^#\[BaseTime: \d+\.\d{3} \(seconds since epoch\)\]$/);
    expect(lines[3]).toBe('"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"');
    expect(lines[4]).toMatch(/^Tag=e2e,0\.000,0\.100,\d+\.\d{3},\S+$/);

    const logged = readAll(file);
    // interval 0 of the first consumer is empty, the other has one value: every interval is logged
    expect(logged.map((l) => l.h.totalCount)).toEqual(perInterval);
    expect(logged.reduce((n, l) => n + l.h.totalCount, 0)).toBe(total);
    expect(logged.every((l) => l.tag === 'e2e')).toBe(true);
    expect(logged[10]!.endSec - logged[10]!.startSec).toBeCloseTo(0.1, 6);
    // the histograms are the full distributions, not summaries: the max is exact to the bucket (0.1%)
    const top = 1000 * 50 + 7 * 49;
    expect(logged[49]!.h.maxValue).toBeGreaterThanOrEqual(top);
    expect(logged[49]!.h.maxValue).toBeLessThan(top * 1.001);
    expect(logged[49]!.h.getValueAtPercentile(50)).toBeLessThan(top / 2 + 1000);
    // the max column is in milliseconds, as HdrHistogram's processor expects for ns values
    const maxMs = Number(lines[4 + 49]!.split(',')[3]);
    expect(maxMs).toBeCloseTo(logged[49]!.h.maxValue / 1e6, 3);
  });

  it('is moved beside the result file under the result name, never over an existing file', () => {
    const file = path.join(dir, 'b.hlog.tmp');
    const { run } = writeRun(file, 3);
    run.finish();
    const base = path.join(dir, '2026-12-01T000000Z-latency');
    fs.writeFileSync(`${base}.nats-test.hlog`, 'someone else’s\n');
    const result = { schema: RESULT_SCHEMA, systems: [{ system: 'nats', config: { label: 'test' }, histograms: { e2e: '', publish: '', unit: 'ns' }, intervalLog: file } as unknown as SystemResult] } as unknown as RunResult;
    const written = writeResultFiles(base, result);
    expect(written.hlog).toEqual([`${base}.nats-test-2.hlog`]);
    expect(fs.readFileSync(`${base}.nats-test.hlog`, 'utf8')).toBe('someone else’s\n');
    expect(fs.existsSync(file)).toBe(false);
    expect(readAll(`${base}.nats-test-2.hlog`)).toHaveLength(3);
    const json = JSON.parse(fs.readFileSync(`${base}.json`, 'utf8')) as RunResult;
    expect(json.systems[0]!.intervalLog).toBe(path.basename(`${base}.nats-test-2.hlog`));
  });

  describe('encoding straight from the recorder (encodeBuckets)', () => {
    const nonzero = (r: LatencyRecorder): number[] => [...r.counts.keys()].filter((i) => r.counts[i]! !== 0);
    // a spread like a run's: most values in µs, a tail into seconds, runs of equal values, a clamp
    const cases: Array<[string, (r: LatencyRecorder) => void]> = [
      ['empty', () => undefined],
      ['one value', (r) => r.record(1234)],
      ['bucket 0 and zero', (r) => r.recordMany(0, 3)],
      ['a run-like spread', (r) => {
        let x = 12345;
        for (let i = 0; i < 20_000; i++) {
          x = (x * 1103515245 + 12345) % 2147483648;
          r.record(i % 97 === 0 ? x * 50 : 2000 + (x % 200_000));
        }
      }],
      ['gaps of one empty bucket', (r) => [2048, 2050, 2052, 2056].forEach((v) => r.record(v))],
      ['huge counts and the top value', (r) => {
        r.recordMany(5_000, 2 ** 40 + 3);
        r.recordMany(HIGHEST_TRACKABLE_NS, 7);
      }],
    ];
    for (const [name, fill] of cases) {
      it(`gives hdr-histogram-js's bytes: ${name}`, () => {
        const r = new LatencyRecorder();
        fill(r);
        const mine = encodeBuckets(r.counts, nonzero(r));
        expect(mine).toBe(encodeHdr(r.toHdr()));
        const back = hdr.decodeFromCompressedBase64(mine, 64, false);
        expect(back.totalCount).toBe(r.total);
      });
    }

    it('keeps nothing of a larger histogram in its reused buffer', () => {
      const big = new LatencyRecorder();
      for (let i = 1; i < 30_000; i++) big.recordMany(i * 131, i);
      const small = new LatencyRecorder();
      small.recordMany(1_500, 2);
      small.record(7_000_000);
      for (const r of [big, small, big, new LatencyRecorder()]) expect(encodeBuckets(r.counts, nonzero(r))).toBe(encodeHdr(r.toHdr()));
    });

    it('writes the interval line the replaying writer wrote', () => {
      const r = new LatencyRecorder();
      for (let i = 1; i < 5000; i++) r.record(i * 997);
      const a = path.join(dir, 'buckets-a.hlog');
      const b = path.join(dir, 'buckets-b.hlog');
      const wa = new HlogWriter(a, 1_764_000_000_000);
      const wb = new HlogWriter(b, 1_764_000_000_000);
      wa.interval('e2e', 12.5, 1, r.toHdr());
      wb.intervalBuckets('e2e', 12.5, 1, r.counts, nonzero(r));
      wa.interval('e2e', 0, 0.1, new LatencyRecorder().toHdr());
      wb.intervalBuckets('e2e', 0, 0.1, new LatencyRecorder().counts, []);
      wa.close();
      wb.close();
      expect(fs.readFileSync(b, 'utf8')).toBe(fs.readFileSync(a, 'utf8'));
    });
  });
});
