import { describe, expect, it } from 'vitest';
import { cellsFor, interleave, spread, summarizeCells } from '../../src/scenario/matrix.ts';
import { validateScenario } from '../../src/scenario/scenario.ts';
import type { SystemResult } from '../../src/core/result.ts';

const systems = ['ringbuffer', 'nats', 'pulsar'];

describe('configuration matrix', () => {
  it('makes one cell per combination of a system’s keys, on top of its section', () => {
    const s = validateScenario(
      { nats: { replicas: 1 }, matrix: { 'nats.storage': ['file', 'memory'], 'nats.ackPolicy': ['explicit', 'none'], 'ringbuffer.padding': ['on', 'off'] } },
      'x.yaml',
      systems,
    );
    const nats = cellsFor('nats', s);
    expect(nats.map((c) => c.label)).toEqual([
      'storage=file,ackPolicy=explicit',
      'storage=file,ackPolicy=none',
      'storage=memory,ackPolicy=explicit',
      'storage=memory,ackPolicy=none',
    ]);
    expect(nats[3]!.raw).toEqual({ replicas: 1, storage: 'memory', ackPolicy: 'none' });
    expect(cellsFor('ringbuffer', s)).toHaveLength(2);
    expect(cellsFor('pulsar', s)).toEqual([{ label: '', raw: {} }]);
  });

  it('rejects matrix keys that name no system', () => {
    expect(() => validateScenario({ matrix: { 'kafka.acks': [1] } }, 'x.yaml', systems)).toThrow(/x.yaml: matrix.kafka.acks: expected a key/);
    expect(() => validateScenario({ matrix: { 'nats.storage': [] } }, 'x.yaml', systems)).toThrow(/non-empty list/);
  });

  it('interleaves repetitions so every cell takes every position equally often', () => {
    const cells = ['a', 'b', 'c'];
    const positions = new Map<string, number[]>();
    for (let round = 0; round < 3; round++) interleave(cells, round).forEach((c, i) => positions.set(c, [...(positions.get(c) ?? []), i]));
    for (const p of positions.values()) expect([...p].sort()).toEqual([0, 1, 2]);
  });

  it('summarizes each cell by its median and spread', () => {
    expect(spread([3, 1, 2])).toMatchObject({ median: 2, min: 1, max: 3 });
    expect(spread([4, 1, 2, 3]).median).toBe(2.5);
    // a repetition without data (an empty histogram's NaN) is left out, never sorted among the numbers
    expect(spread([5, NaN, 1, 3])).toMatchObject({ median: 3, min: 1, max: 5 });
    expect(spread([NaN]).median).toBeNaN();
    const r = (cell: string, msgs: number, p99: number): SystemResult =>
      ({ system: 'nats', cell, status: 'ok', config: { ratePerSec: 'max' }, throughput: { msgsPerSec: msgs }, latency: { e2e: { p50: 1, p99, p999: 1, max: 1 } } }) as unknown as SystemResult;
    const sum = summarizeCells([r('storage=file', 10, 5), r('storage=memory', 30, 1), r('storage=file', 20, 7), r('storage=file', 40, 6)]);
    const file = sum.find((c) => c.cell === 'storage=file')!;
    expect(file.repetitions).toBe(3);
    expect(file.msgsPerSec.median).toBe(20);
    expect(file.p99).toMatchObject({ median: 6, min: 5, max: 7 });
  });
});
