/**
 * The gate against the real bench CLI: the ring buffer at a fixed rate, repeated runs,
 * a slowdown injected with --work-us (busy-wait handler work per message in the consumer).
 *
 * At 1000 msg/s, 550 µs of work per message keeps the consumer 55% busy; twice that
 * (1100 µs) is more than it can do, so a backlog, and with it latency, grows through the
 * run. The rounds interleave (A, B, C, then B, A, C …: A and B swap places every round,
 * so neither always follows the slow C run) so that drift in the shared machine's speed
 * hits all three sets alike. A and B are the same code; C is 2x slower.
 *
 * 6 runs a side lets the Mann–Whitney test reach p = 1/924; alpha 0.005 and a 25%
 * threshold keep a false alarm on A vs B (at most alpha by construction) at 0.5%. With 4
 * runs a side (alpha 0.02) it flaked once in CI, where other test files load the two
 * cores in bursts: all 4 B runs landed in one. The default alpha is covered by the unit
 * tests.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpDir } from './fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ROUNDS = 6;
const WORK_US = 550;

function node(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function bench(out: string, workUs: number): void {
  const r = node(['bench/bench.ts', '--scenario', 'tps', '--systems', 'ringbuffer', '--rate', '1000', '--batch', '1', '--duration', '1s', '--warmup', '500ms', '--work-us', String(workUs), '--out', out]);
  expect(r.stderr).not.toMatch(/FAILED|DELIVERY ERRORS/);
  expect(r.code).toBe(0);
}

describe('gate on real ring-buffer runs', () => {
  it(
    'passes repeated runs of the same code and fails a 2x handler slowdown',
    () => {
      const dir = tmpDir('busbench-gate-');
      try {
        const [a, b, c] = ['a', 'b', 'c'].map((x) => path.join(dir, x));
        for (let round = 0; round < ROUNDS; round++) {
          const [first, second] = round % 2 === 0 ? [a!, b!] : [b!, a!];
          bench(first, WORK_US);
          bench(second, WORK_US);
          bench(c!, 2 * WORK_US);
        }
        const gate = (current: string) => node(['bench/gate.ts', '--baseline', `${a}/*.json`, '--current', `${current}/*.json`, '--metric', 'p99', '--max-regression', '25%', '--alpha', '0.005']);

        const same = gate(b!);
        expect(same.stdout, same.stdout).toMatch(/ringbuffer @ 1000\/s\s+p99\s+.*\(6\)\s+.*\(6\)/);
        expect(same.code, same.stdout).toBe(0);

        const slow = gate(c!);
        expect(slow.code, slow.stdout).toBe(1);
        expect(slow.stdout).toMatch(/REGRESSED/);
        expect(slow.stdout).toMatch(/warning: parameter workUs differs: baseline 550, current 1100/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    300_000,
  );
});
