/**
 * No broker outlives the harness: Ctrl-C and SIGTERM run the cleanups and kill what is
 * left (signals.ts); a harness killed with -9 leaves its server to the next run's
 * reapOrphans(). Each case runs a real harness process with a real nats-server.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ensureNatsServer } from '../../src/brokers/nats/install.ts';
import { canConnect } from '../../src/brokers/common/ports.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.join(import.meta.dirname, 'fixtures');
const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-signals-cache-'));
const started: number[] = [];
const dirs: string[] = [cache];

/** The fixtures keep their pid files in a cache folder of their own, but run our nats-server. */
async function fixtureEnv(): Promise<NodeJS.ProcessEnv> {
  return { ...process.env, BUSBENCH_CACHE: cache, NATS_SERVER_BIN: (await ensureNatsServer()).path };
}

function gone(pid: number): boolean {
  try {
    // a zombie (killed, not yet reaped by its new parent) holds no port and runs nothing
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return true;
  }
}

async function untilGone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && !gone(pid); i++) await new Promise((r) => setTimeout(r, 50));
  return gone(pid);
}

async function startHarness(cleanup: 'graceful' | 'hang' | 'none'): Promise<{ child: ChildProcess; pids: number[]; port: number; stdout: () => string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-signals-'));
  dirs.push(dir);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(FIXTURES, 'nats-harness.ts'), dir, cleanup], { cwd: ROOT, env: await fixtureEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const ready = await new Promise<boolean>((resolve) => {
    const poll = setInterval(() => {
      if (out.includes('\n')) done(true);
    }, 20);
    const done = (ok: boolean): void => {
      clearInterval(poll);
      resolve(ok);
    };
    child.once('exit', () => done(false));
  });
  expect(ready, err).toBe(true);
  const { pids, port } = JSON.parse(out.split('\n')[0]!) as { pids: number[]; port: number };
  started.push(...pids);
  return { child, pids, port, stdout: () => out };
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

afterEach(() => {
  // whatever a failed case left behind
  for (const pid of started.splice(0)) if (!gone(pid)) process.kill(pid, 'SIGKILL');
});
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe.each([
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)('%s to a harness running nats-server', (signal, exitCode) => {
  it(`runs the cleanup, leaves no server and no bound port, exits ${exitCode}`, async () => {
    const h = await startHarness('graceful');
    expect(h.pids).toHaveLength(1);
    expect(gone(h.pids[0]!)).toBe(false);
    expect(await canConnect(h.port)).toBe(true);
    h.child.kill(signal);
    expect(await exitOf(h.child)).toEqual({ code: exitCode, signal: null });
    expect(h.stdout()).toContain('cleanup: server stopped');
    expect(await untilGone(h.pids[0]!)).toBe(true);
    expect(await canConnect(h.port)).toBe(false);
  });
});

describe('a cleanup that never finishes', () => {
  it('is given up on: the server is killed anyway and the harness exits 130', async () => {
    const h = await startHarness('hang');
    h.child.kill('SIGINT');
    expect(await exitOf(h.child)).toEqual({ code: 130, signal: null });
    expect(await untilGone(h.pids[0]!)).toBe(true);
    expect(await canConnect(h.port)).toBe(false);
  });
});

describe('a harness killed with -9', () => {
  it('leaves its server running, and the next run reaps it', async () => {
    const h = await startHarness('none');
    h.child.kill('SIGKILL');
    await exitOf(h.child);
    // nothing could clean up: the server (in its own process group) is still there
    expect(gone(h.pids[0]!)).toBe(false);
    expect(await canConnect(h.port)).toBe(true);
    const reap = spawnSync(process.execPath, ['--import', 'tsx', path.join(FIXTURES, 'reap.ts')], { cwd: ROOT, env: await fixtureEnv(), encoding: 'utf8' });
    expect(reap.status, reap.stderr).toBe(0);
    expect(JSON.parse(reap.stdout)).toEqual([`nats-n1 (pid ${h.pids[0]})`]);
    expect(await untilGone(h.pids[0]!)).toBe(true);
    expect(await canConnect(h.port)).toBe(false);
    // and its pid file is gone: a second reap finds nothing
    const again = spawnSync(process.execPath, ['--import', 'tsx', path.join(FIXTURES, 'reap.ts')], { cwd: ROOT, env: await fixtureEnv(), encoding: 'utf8' });
    expect(JSON.parse(again.stdout)).toEqual([]);
  });
});
