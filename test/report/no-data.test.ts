/**
 * An empty histogram is "no data", never 0 µs: in the summary, the result file, the
 * console table, the HTML report, the metrics that compare and gate read, and compare.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LatencyRecorder, newHdr, summarize } from '../../src/core/histogram.ts';
import { compareResults } from '../../src/report/analysis/compare.ts';
import { summaryTable } from '../../src/report/render/console.ts';
import { readResultFile } from '../../src/report/io/files.ts';
import { renderReport } from '../../src/report/render/html.ts';
import { formatMetric, metricByName, runValues } from '../../src/report/analysis/metrics.ts';
import { loaded, runResult, systemResult, tmpDir, writeResult } from './fixtures.ts';

const LATENCY_FIELDS = ['min', 'mean', 'p50', 'p90', 'p99', 'p999', 'p9999', 'max'] as const;
const stream = { isTTY: false } as NodeJS.WriteStream;

describe('an empty histogram is no data', () => {
  it('summarize() and LatencyRecorder.summary() carry count 0 and no numbers', () => {
    for (const s of [summarize(newHdr()), new LatencyRecorder().summary()]) {
      expect(s.count).toBe(0);
      for (const k of LATENCY_FIELDS) expect(s[k], k).toBeNaN();
    }
  });

  it('the result file holds null, not 0, and reading it gives NaN back', () => {
    const r = runResult([systemResult({ system: 'nats', samples: 0 }), systemResult({ system: 'ringbuffer', samples: 100 })]);
    r.systems[0]!.intervals[0] = { ...r.systems[0]!.intervals[0]!, received: 0, ...new LatencyRecorder().summary() };
    const dir = tmpDir();
    try {
      const file = writeResult(dir, 'x.json', r);
      const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { systems: Array<{ latency: { e2e: Record<string, unknown> }; intervals: Array<Record<string, unknown>> }> };
      for (const k of LATENCY_FIELDS) expect(doc.systems[0]!.latency.e2e[k], k).toBeNull();
      expect(doc.systems[0]!.latency.e2e.count).toBe(0);
      expect(doc.systems[0]!.intervals[0]!.p99).toBeNull();
      expect(fs.readFileSync(file, 'utf8')).not.toMatch(/"p99": 0[,\n]/);
      const back = readResultFile(path.join(dir, 'x.json'));
      for (const k of LATENCY_FIELDS) expect(back.systems[0]!.latency.e2e[k], k).toBeNaN();
      expect(back.systems[0]!.intervals[0]!.p99).toBeNaN();
      expect(back.systems[1]!.latency.e2e.p99).toBeGreaterThan(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the console table says "no data" where the numbers would be', () => {
    const text = summaryTable(runResult([systemResult({ system: 'nats', samples: 0 })]), stream);
    const row = text.split('\n').find((l) => l.startsWith('nats'))!;
    expect(row.match(/no data/g)).toHaveLength(6); // p50 p90 p99 p99.9 p99.99 max
    expect(row).not.toMatch(/µs/);
    expect(text).toMatch(/nats: no message arrived in the measured window: no latency data/);
  });

  it('the HTML report says "no data", and a row with some empty runs says how many', () => {
    const html = renderReport([
      loaded(
        runResult([
          systemResult({ system: 'nats', samples: 0 }),
          ...[0, 1, 2].map((r) => systemResult({ system: 'ringbuffer', repetition: r, seed: r + 1, samples: r === 2 ? 0 : 1000 })),
        ]),
      ),
    ]);
    const rowOf = (system: string): string => html.split('<tr>').find((r) => r.includes(`</span> ${system}</td>`))!;
    const nats = rowOf('nats');
    expect(nats.match(/>no data</g)).toHaveLength(4); // p50, p99, p99.9, max
    expect(nats).not.toMatch(/0\.0µs/);
    expect(rowOf('ringbuffer')).toMatch(/1 no data<\/span>/);
    expect(rowOf('ringbuffer')).toMatch(/1 of 3 runs had no data/);
  });

  it('metrics give no value for it, compare says so, and the formatter shows "no data"', () => {
    const empty = systemResult({ system: 'nats', samples: 0 });
    expect(runValues(empty, metricByName('p99'))).toEqual([]);
    expect(runValues(empty, metricByName('max'))).toEqual([]);
    expect(formatMetric({ unit: 'µs' }, NaN)).toBe('no data');
    const a = loaded(runResult([systemResult({ system: 'nats', seed: 1, samples: 1000 })]));
    const b = loaded(runResult([empty]));
    const cmp = compareResults([a], [b], [metricByName('p99'), metricByName('throughput')]);
    expect(cmp.rows.map((r) => r.metric)).toEqual(['msg/s']);
    expect(cmp.noData).toEqual(['nats p99: no data in b']);
  });
});
