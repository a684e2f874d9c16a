/**
 * The wait for a fault's restart is bounded. A cluster whose restart outlasts the run's
 * drain (nine JVMs coming back for minutes, a bookie that never registers) used to hold
 * the run, and the lock it runs under, until the deployment's own start deadline (420 s
 * for the Pulsar cluster); now the run waits `fault.restartWait` (default 30 s) past its
 * drain and reports the restart as not finished. A bad restartWait is refused with one
 * line, exit 2, nothing written.
 *
 * The restart here is a fault injector's own promise that never settles: what is tested
 * is the harness's wait, which no broker can be made to hold on cue.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SystemSession } from '../../src/core/contract.ts';
import { monoNs } from '../../src/core/clock.ts';
import { Control } from '../../src/harness/control.ts';
import { injectFault } from '../../src/harness/fault-schedule.ts';
import { validateScenario } from '../../src/scenario/scenario.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function session(restart: () => Promise<void>): SystemSession {
  return { faults: { fault: 'kill -9 of test nodes', kill: () => Promise.resolve(), restart } } as unknown as SystemSession;
}

const plan = { atMs: 0, downtimeMs: 0, kind: { type: 'kill' as const } };

describe('the wait for a restart', () => {
  it('gives up after the bound with the fault as injected and the restart as not finished', async () => {
    const run = injectFault(session(() => new Promise<void>(() => undefined)), Control.create(1), plan, monoNs(), () => undefined);
    await new Promise((r) => setTimeout(r, 50)); // the kill happens at once (atMs 0)
    const record = await run.settled(200);
    expect(record).toMatchObject({ injected: true, restartedNs: 0, fault: 'kill -9 of test nodes' });
    expect(record.killNs).toBeGreaterThan(0);
    expect(record.error).toBe('the restart had not finished 0.2 s after the drain (fault.restartWait)');
  });

  it('returns the restart as done when it finishes within the bound', async () => {
    const run = injectFault(session(() => Promise.resolve()), Control.create(1), plan, monoNs(), () => undefined);
    const record = await run.settled(10_000);
    expect(record.error).toBeUndefined();
    expect(record.restartedNs).toBeGreaterThanOrEqual(record.killNs);
  });
});

describe('fault.restartWait', () => {
  const base = { description: 'x', systems: ['nats'], rate: 1000, duration: '1s' };
  const fault = (f: unknown) => validateScenario({ ...base, fault: f }, 'scenarios/x.yaml', ['nats']).fault;

  it('is read as a duration of at least a second, absent by default', () => {
    expect(fault({ at: '2s', restartWait: '90s' })?.restartWaitMs).toBe(90_000);
    expect(fault({ at: '2s' })).not.toHaveProperty('restartWaitMs');
    expect(() => fault({ at: '2s', restartWait: '10ms' })).toThrow(/^scenarios\/x\.yaml: fault\.restartWait: expected a duration such as .*at least 1000 ms, got "10ms"$/);
  });

  it.each([['10ms'], ['soon'], ['-5s']])('restartWait %s from the CLI: one line, exit 2, nothing written', (v) => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-restartwait-'));
    dirs.push(d);
    const file = path.join(d, 'wait.yaml');
    fs.writeFileSync(file, `description: x\nsystems: [nats]\nrate: 100\nduration: 1s\nfault: {at: 1s, restartWait: ${JSON.stringify(v)}}\n`);
    const out = path.join(d, 'out');
    fs.mkdirSync(out);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/bench.ts', '--scenario', file, '--out', out], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toMatch(/fault\.restartWait: expected a duration such as/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.status).toBe(2);
    expect(fs.readdirSync(out)).toEqual([]);
  });
});
