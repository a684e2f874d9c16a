import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import type { Worker } from 'node:worker_threads';
import { calibrate, calibration, monoNs } from '../../src/core/clock.ts';
import { spawnTsWorker } from '../../src/core/ts-worker.ts';
import type { PingJob, PingReport } from './clock-thread.ts';

const ENTRY = new URL('./clock-thread.ts', import.meta.url);

const reportOf = (w: Worker): Promise<PingReport> =>
  new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });

describe('monoNs', () => {
  it('reads CLOCK_MONOTONIC: between two process.hrtime.bigint() reads, within its error bound', () => {
    for (let i = 0; i < 1000; i++) {
      const a = Number(process.hrtime.bigint());
      const m = monoNs();
      const b = Number(process.hrtime.bigint());
      expect(m).toBeGreaterThanOrEqual(a - calibration.errorNs);
      expect(m).toBeLessThanOrEqual(b + calibration.errorNs);
    }
  });

  it('reads whole nanoseconds, as the timeline words store them', () => {
    // interval edges are compared against the timeline's integer words: a fractional read
    // shifted an edge and gave the run an extra "measure" interval after its window
    for (let i = 0; i < 10_000; i++) {
      const t = monoNs();
      if (!Number.isInteger(t)) expect.fail(`monoNs() returned ${t}`);
    }
  });

  it('never goes backwards', () => {
    let prev = monoNs();
    let backwards = 0;
    for (let i = 0; i < 100_000; i++) {
      const now = monoNs();
      if (now < prev) backwards++;
      prev = now;
    }
    expect(backwards).toBe(0);
  });

  it('finds the same origin on a second calibration', () => {
    const again = calibrate();
    expect(Math.abs(again.originNs - calibration.originNs)).toBeLessThanOrEqual(again.errorNs + calibration.errorNs);
  });

  it('agrees across processes: a child process reads between the two reads of its parent', () => {
    // performance.now() counts from its process's start, so without the calibrated
    // origin a child's reads would be that child's age, far below the parent's.
    const code = `import('${new URL('../../src/core/clock.ts', import.meta.url).href}').then((c) => process.stdout.write(JSON.stringify([c.monoNs(), c.calibration.errorNs])))`;
    const before = monoNs();
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { encoding: 'utf8' });
    const after = monoNs();
    expect(r.status, r.stderr).toBe(0);
    const [child, childError] = JSON.parse(r.stdout) as [number, number];
    expect(child).toBeGreaterThanOrEqual(before - calibration.errorNs - childError);
    expect(child).toBeLessThanOrEqual(after + calibration.errorNs + childError);
  });

  it('agrees across worker threads: a read after a hand-over is never before the read before it', { timeout: 60_000 }, async () => {
    // Two workers hand a turn back and forth, each writing its monoNs() just before
    // handing over: the other's next read happens after, so it must not be smaller
    // (beyond both calibrations' error). The main thread wrote the first time.
    const shared = new SharedArrayBuffer(16);
    new Float64Array(shared, 8, 1)[0] = monoNs();
    const rounds = 2000;
    const jobs: PingJob[] = [0, 1].map((me) => ({ shared, me: me as 0 | 1, rounds }));
    const workers = jobs.map((j) => spawnTsWorker(ENTRY, j));
    try {
      const reports = await Promise.all(workers.map(reportOf));
      const bound = -(reports[0]!.errorNs + reports[1]!.errorNs);
      for (const r of reports) expect(r.worstNs).toBeGreaterThanOrEqual(bound);
      expect(monoNs()).toBeGreaterThanOrEqual(new Float64Array(shared, 8, 1)[0]! - calibration.errorNs - reports[0]!.errorNs);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });
});
