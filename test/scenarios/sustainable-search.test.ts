/**
 * rate: sustainable end to end on the ring buffer and a native nats-server: consumers that spend 20 µs on each
 * message cannot take more than 50k msg/s, so the search must settle below that, having
 * passed low rates and failed high ones, in bounded steps and time.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/core/result.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('maximum sustainable rate', { timeout: 240_000 }, () => {
  it.each(['ringbuffer', 'nats'])('converges on %s below what its consumer can take, and reports every step', (system) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-sustainable-'));
    const scenario = path.join(dir, 'sustainable-ring.yaml');
    fs.writeFileSync(scenario, ['rate: sustainable', 'sustainable: {from: 5k, max: 2M, step: 1s, warmup: 300ms, maxSteps: 12, precision: 10%}', 'workUs: 20', 'drainTimeout: 5s', 'interval: 250ms', `systems: [${system}]`, ''].join('\n'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/bench.ts', '--scenario', scenario, '--out', dir, '--json'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 230_000 });
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as RunResult;
    expect(r.stderr).toMatch(new RegExp(`${system}: maximum sustainable rate [\\d.]+k msg/s: converged`));
    const sys = result.systems[0]!;
    const o = sys.sustainable!;
    expect(o.converged, o.stop).toBe(true);
    expect(o.sustainablePerSec).toBeGreaterThanOrEqual(5000);
    expect(o.sustainablePerSec).toBeLessThan(50_000);
    expect(o.steps.length).toBeLessThanOrEqual(12);
    expect(o.steps.some((v) => !v.pass && v.offeredPerSec > o.sustainablePerSec!)).toBe(true);
    // the result is the chosen step's own run at that rate
    expect(sys.config.ratePerSec).toBe(o.sustainablePerSec);
    expect(sys.schedule?.intendedPerSec).toBe(o.sustainablePerSec);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('"N%" is a fraction of the maximum sustainable rate from the open-loop search, and the result says so', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-fraction-'));
    const scenario = path.join(dir, 'fraction.yaml');
    fs.writeFileSync(scenario, ['rate: 50%', 'sustainable: {from: 5k, max: 2M, step: 1s, warmup: 300ms, maxSteps: 6, precision: 25%}', 'workUs: 20', 'duration: 1s', 'warmup: 300ms', 'drainTimeout: 5s', 'interval: 250ms', 'systems: [ringbuffer]', ''].join('\n'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/bench.ts', '--scenario', scenario, '--out', dir, '--json'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 230_000 });
    expect(r.status, r.stderr).toBe(0);
    const sys = (JSON.parse(r.stdout) as RunResult).systems[0]!;
    expect(sys.config.probe).toMatch(/^open-loop sustainable search: [1-6] steps, /);
    const max = sys.config.probeMaxMsgsPerSec as number;
    // 20 µs per message: the consumer takes at most 50k msg/s, so the open-loop maximum is below it
    expect(max).toBeGreaterThanOrEqual(5000);
    expect(max).toBeLessThan(50_000);
    expect(sys.config.ratePerSec).toBe(Math.round(0.5 * max));
    expect(sys.config.label).toBe(`rate=50% (${Math.round(0.5 * max)}/s)`);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
