import { describe, expect, it } from 'vitest';
import type { SystemResult } from '../../src/core/result.ts';
import { groupSeries, rateOf, seriesLabel, splitByFile } from '../../src/report/analysis/series.ts';
import { loaded, runResult, systemResult } from './fixtures.ts';

const withConfig = (config: Record<string, unknown>, extra: Partial<SystemResult> = {}): SystemResult => ({ ...systemResult({ system: 'nats', samples: 10 }), config, ...extra });

describe('series keys', () => {
  it('reads the rate as the scenario wrote it, so "N%" rates match across files', () => {
    expect(rateOf(withConfig({ label: 'storage=file rate=25% (12345/s) #2', ratePerSec: 12345 }))).toBe('25%');
    expect(rateOf(withConfig({ label: 'rate=25% of max' }))).toBe('25%'); // failed during the probe
    expect(rateOf(withConfig({ label: 'rate=5000 msg/s', ratePerSec: 5000 }))).toBe('5000');
    expect(rateOf(withConfig({ label: 'rate=5000 msg/s' }))).toBe('5000'); // a failed run has no ratePerSec
    expect(rateOf(withConfig({ label: '', ratePerSec: 'max' }))).toBe('max');
    expect(rateOf(withConfig({ label: 'rate=50%' }, { rate: '50%' } as Partial<SystemResult>))).toBe('50%');
  });

  it('groups runs by scenario, system, cell and rate across files and repetitions', () => {
    const file = (seed: number) =>
      loaded(
        runResult([
          systemResult({ system: 'nats', cell: 'storage=file', repetition: 0, seed, samples: 10 }),
          systemResult({ system: 'nats', cell: 'storage=memory', repetition: 0, seed, samples: 10 }),
          systemResult({ system: 'nats', cell: 'storage=file', repetition: 1, seed: seed + 1, samples: 10 }),
        ]),
        `f${seed}.json`,
      );
    const series = groupSeries([file(1), file(5)]);
    expect(series.map((s) => [seriesLabel(s), s.runs.length])).toEqual([
      ['nats [storage=file]', 4],
      ['nats [storage=memory]', 2],
    ]);
    expect(splitByFile(series).map((g) => [g.fileIndex, g.series.cell, g.runs.length])).toEqual([
      [0, 'storage=file', 2],
      [0, 'storage=memory', 1],
      [1, 'storage=file', 2],
      [1, 'storage=memory', 1],
    ]);
  });

  it('labels rates people can read', () => {
    expect(seriesLabel({ scenario: 'latency', system: 'nats', cell: '', rate: '25%' }, { scenario: true })).toBe('latency: nats @ 25%');
    expect(seriesLabel({ scenario: 'soak', system: 'pulsar', cell: 'x=1', rate: '10000' })).toBe('pulsar [x=1] @ 10000/s');
  });
});
