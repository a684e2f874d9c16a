/**
 * The per-interval work (a worker's snapshot, the runner's reduction and .hlog line) must
 * settle in V8's optimizing compiler after the first intervals. It deoptimized at every
 * interval instead: loops compiled while they ran, without type feedback for the code
 * after them, and a count that arrived as a small integer one second and as a heap
 * number the next. Each deoptimization is a recompilation on a helper thread, and on two
 * vCPUs with two spinning workers that thread takes one of their cores. Counted by
 * running the fixture for few and for many intervals: the extra intervals must add none
 * beyond the compiler's startup jitter.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const WATCHED = /deoptimizing [^<]*<JSFunction (toSparse|toPacked|nonzero|countNonzero|packNonzero|addSparse|addCounts|addExtremes|quickSummary|encodeBuckets|putCounts|emit|close|report|intervalBuckets) /;

function deopts(intervals: number): number {
  const r = spawnSync(process.execPath, ['--trace-deopt', '--import', 'tsx', 'test/fixtures/interval-deopt.ts', String(intervals)], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 26 });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain(`interval-deopt: ${intervals} intervals`);
  return r.stdout.split('\n').filter((l) => WATCHED.test(l)).length;
}

/**
 * Where V8's concurrent compiler finishes decides whether a first-interval deoptimization
 * lands in interval 2 or 5, so a run's count varies by a few (0-4 seen, twice that allowed); what the old
 * code did grows with the run instead: 35 in 8 intervals, 97 in 24, 82 in 40 (where V8 gave
 * up re-optimizing some of them).
 */
const JITTER = 8;

describe('interval reduction and the optimizing compiler', () => {
  it('deoptimizes in the first intervals only: 40 intervals add no more than startup jitter to 8', () => {
    const few = deopts(8);
    const many = deopts(40);
    expect(many, `8 intervals: ${few} deoptimizations, 40 intervals: ${many}`).toBeLessThanOrEqual(few + JITTER);
  });
});
