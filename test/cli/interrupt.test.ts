import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canConnect } from '../../src/brokers/common/ports.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** nats-server processes whose command line mentions `dir` (their config lives there). */
function serversUnder(dir: string): Array<{ pid: number; port: number }> {
  const out: Array<{ pid: number; port: number }> = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmd = '';
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (!cmd.includes('nats-server') || !cmd.includes(dir)) continue;
    const conf = /-c (\S+)/.exec(cmd)?.[1];
    const port = conf && fs.existsSync(conf) ? Number(/listen: 127\.0\.0\.1:(\d+)/.exec(fs.readFileSync(conf, 'utf8'))?.[1]) : 0;
    out.push({ pid: Number(pid), port });
  }
  return out;
}

describe.each([
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)('%s during a NATS run', (signal, exitCode) => {
  it('stops the broker, leaves no process or port behind, writes no result', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-int-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bench.ts', '--scenario', 'tps', '--systems', 'nats', '--duration', '60s', '--warmup', '1s', '--out', out], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

    let servers: Array<{ pid: number; port: number }> = [];
    for (let i = 0; i < 300 && servers.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      servers = serversUnder(out);
    }
    expect(servers.length, stderr).toBe(1);
    // let the run get going: producers connected and sending
    await new Promise((r) => setTimeout(r, 3000));
    child.kill(signal);
    expect(await exited).toBe(exitCode);
    expect(stderr).toMatch(/interrupted/);
    expect(serversUnder(out)).toEqual([]);
    expect(await canConnect(servers[0]!.port)).toBe(false);
    expect(fs.readdirSync(out).filter((f) => f.endsWith('.json'))).toEqual([]);
  });
});
