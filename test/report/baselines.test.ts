/**
 * The example CI workflow against the committed baselines: its own gate step, run with
 * bash as the workflow runs it, on the baselines as both sides (must pass), on a doctored
 * current side (p99 ×10, a failed run: must fail with exit 1) and without baselines (must
 * fail, not skip).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { RunResult } from '../../src/core/result.ts';
import { expandGlob } from '../../src/report/io/inputs.ts';
import { tmpDir } from './fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BASELINES = expandGlob(path.join(ROOT, 'results/baselines/tps-*.json'));

interface Step {
  name?: string;
  run?: string;
}

function gateStep(): string {
  const wf = YAML.parse(fs.readFileSync(path.join(ROOT, '.github/workflows/bench.yml'), 'utf8')) as { jobs: { bench: { steps: Step[] } } };
  const step = wf.jobs.bench.steps.find((s) => s.name?.startsWith('gate'));
  if (!step?.run) throw new Error('bench.yml has no gate step');
  return step.run;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A checkout-like directory: the project's code linked in, results/ of its own. */
function workspace(current: RunResult[] | undefined, withBaselines = true): string {
  const dir = tmpDir('busbench-workflow-');
  dirs.push(dir);
  for (const entry of ['package.json', 'node_modules', 'bench', 'src', 'tsconfig.json']) fs.symlinkSync(path.join(ROOT, entry), path.join(dir, entry));
  fs.mkdirSync(path.join(dir, 'results/current'), { recursive: true });
  if (withBaselines) {
    fs.mkdirSync(path.join(dir, 'results/baselines'));
    for (const f of BASELINES) fs.copyFileSync(f, path.join(dir, 'results/baselines', path.basename(f)));
  }
  (current ?? []).forEach((r, i) => fs.writeFileSync(path.join(dir, `results/current/2026-12-01T00000${i}Z-tps.json`), JSON.stringify(r)));
  return dir;
}

function runGateStep(dir: string): { code: number | null; out: string; summary: string } {
  const summary = path.join(dir, 'summary.md');
  const r = spawnSync('bash', ['-e', '-c', gateStep()], { cwd: dir, env: { ...process.env, NO_COLOR: '1', GITHUB_STEP_SUMMARY: summary }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout + r.stderr, summary: fs.existsSync(summary) ? fs.readFileSync(summary, 'utf8') : '' };
}

const baselines = (): RunResult[] => BASELINES.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as RunResult);

describe('the example workflow gates against the committed baselines', () => {
  it('five baseline runs of ringbuffer and nats are committed, each healthy', () => {
    expect(BASELINES.map((f) => path.basename(f))).toEqual(['tps-1.json', 'tps-2.json', 'tps-3.json', 'tps-4.json', 'tps-5.json']);
    for (const r of baselines()) {
      expect(r.systems.map((s) => [s.system, s.status])).toEqual([
        ['ringbuffer', 'ok'],
        ['nats', 'ok'],
      ]);
      for (const s of r.systems) expect(s.latency.e2e.count).toBeGreaterThan(0);
    }
  });

  it('passes with the baselines as the current runs', () => {
    const r = runGateStep(workspace(baselines()));
    expect(r.out).toMatch(/gate: pass \(2 check\(s\)\)/);
    expect(r.code, r.out).toBe(0);
    expect(r.summary).toMatch(/### Benchmark gate \(p99\)/);
  });

  /**
   * The slowdown must exceed the baselines' own run-to-run spread (largest p99 ÷ smallest,
   * up to 1.6× for NATS in the committed ones): below it,
   * 5 runs a side cannot show a regression at alpha 0.01, and the gate rightly passes.
   */
  it('fails (exit 1) when every current p99 is ten times the baseline', () => {
    const factor = 10;
    for (const system of ['ringbuffer', 'nats']) {
      const p99s = baselines().map((r) => r.systems.find((s) => s.system === system)!.latency.e2e.p99);
      expect(factor).toBeGreaterThan(Math.max(...p99s) / Math.min(...p99s));
    }
    const slow = baselines().map((r) => ({ ...r, systems: r.systems.map((s) => ({ ...s, latency: { ...s.latency, e2e: { ...s.latency.e2e, p99: s.latency.e2e.p99 * factor } } })) }));
    const r = runGateStep(workspace(slow));
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/ringbuffer\s+p99\s.*\(5\)\s.*\(5\)\s+\+900\.0%\s+0\.004\s+0\.008\s+REGRESSED/);
    expect(r.out).toMatch(/nats\s+p99\s.*\+900\.0%\s+0\.004\s+0\.008\s+REGRESSED/);
    expect(r.out).toMatch(/^gate: FAIL: ringbuffer p99 .*\(\+900\.0% worse\); nats p99 .*\(\+900\.0% worse\)$/m);
  });

  it('fails (exit 1) when one current run failed, and says which', () => {
    const cur = baselines();
    const nats = cur[2]!.systems[1]!;
    cur[2]!.systems[1] = { ...nats, status: 'failed', error: 'nats-server did not start' };
    const r = runGateStep(workspace(cur));
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/^gate: FAIL: nats: 1 of 5 current run\(s\): FAILED \(nats-server did not start\)$/m);
  });

  it('fails, not skips, when no baseline is committed', () => {
    const r = runGateStep(workspace(baselines(), false));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/::error::no baseline under results\/baselines\//);
  });
});
