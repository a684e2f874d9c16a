import { describe, expect, it } from 'vitest';
import { toBmf, toGab, benchmarkName } from '../../src/report/io/formats.ts';
import { groupSeries } from '../../src/report/analysis/series.ts';
import { loaded, runResult, systemResult } from './fixtures.ts';

const inputs = [
  loaded(
    runResult(
      [
        systemResult({ system: 'ringbuffer', seed: 1, p50Us: 40 }),
        ...[0, 1, 2].map((r) => systemResult({ system: 'nats', cell: 'storage=file', ratePerSec: 2000, seed: 10 + r, repetition: r, p50Us: 300 })),
      ],
      { scenario: 'persistence' },
    ),
  ),
];

describe('github-action-benchmark custom JSON', () => {
  it('is an array of {name, unit, value, range?, extra?} with numbers and strings only', () => {
    for (const kind of ['latency', 'throughput'] as const) {
      const gab = toGab(inputs, kind);
      expect(Array.isArray(gab)).toBe(true);
      expect(gab.length).toBeGreaterThan(0);
      for (const e of gab) {
        expect(Object.keys(e).every((k) => ['name', 'unit', 'value', 'range', 'extra'].includes(k))).toBe(true);
        expect(typeof e.name).toBe('string');
        expect(typeof e.unit).toBe('string');
        expect(Number.isFinite(e.value)).toBe(true);
        if (e.range !== undefined) expect(e.range).toMatch(/^± \d+(\.\d+)?$/);
        if (e.extra !== undefined) expect(typeof e.extra).toBe('string');
      }
      expect(new Set(gab.map((e) => e.name)).size).toBe(gab.length);
    }
  });

  it('names benchmarks scenario/system[cell]@rate and reports the median of repetitions with their range', () => {
    const gab = toGab(inputs, 'latency');
    const p99 = gab.find((e) => e.name === 'persistence/nats[storage=file]@2000 p99')!;
    expect(p99.unit).toBe('us');
    const values = inputs[0]!.result.systems.filter((s) => s.system === 'nats').map((s) => s.latency.e2e.p99).sort((a, b) => a - b);
    expect(p99.value).toBeCloseTo(values[1]!, 3);
    expect(p99.extra).toMatch(/median of 3 runs/);
    expect(gab.some((e) => e.name === 'persistence/ringbuffer p50')).toBe(true);
    expect(toGab(inputs, 'throughput').find((e) => e.name === 'persistence/ringbuffer msg/s')!.unit).toBe('msg/s');
  });
});

describe('Bencher Metric Format', () => {
  it('is {benchmark: {measure: {value, lower_value?, upper_value?}}} with lower ≤ value ≤ upper', () => {
    const bmf = toBmf(inputs);
    expect(Object.keys(bmf).sort()).toEqual(groupSeries(inputs).map(benchmarkName).sort());
    for (const measures of Object.values(bmf)) {
      expect(Object.keys(measures).sort()).toEqual(['latency-max', 'latency-p50', 'latency-p99', 'latency-p999', 'throughput']);
      for (const m of Object.values(measures)) {
        expect(Object.keys(m).every((k) => ['value', 'lower_value', 'upper_value'].includes(k))).toBe(true);
        expect(Number.isFinite(m.value)).toBe(true);
        if (m.lower_value !== undefined) expect(m.lower_value).toBeLessThanOrEqual(m.value);
        if (m.upper_value !== undefined) expect(m.upper_value).toBeGreaterThanOrEqual(m.value);
      }
    }
  });

  it('gives latencies in nanoseconds, like Bencher\'s built-in latency measure', () => {
    const bmf = toBmf(inputs);
    const ring = inputs[0]!.result.systems[0]!;
    expect(bmf['persistence/ringbuffer']!['latency-p50']!.value).toBeCloseTo(ring.latency.e2e.p50 * 1000, 0);
    expect(bmf['persistence/ringbuffer']!.throughput!.value).toBeCloseTo(ring.throughput.msgsPerSec, 0);
  });
});
