import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { ResourceMeter, clockTicksPerSec, processCpuSec, processPeakRssBytes, processTree, totalPeakRssBytes, waitedChildrenCpuSec } from '../../src/core/resources.ts';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/**
 * A child that, on each line of input, burns CPU until its own count says 300 ms more,
 * touches 64 MB more, and answers with its CPU seconds so far (process.cpuUsage).
 */
const BUSY = `
const held = [];
process.stdin.on('data', () => {
  const start = process.cpuUsage();
  let x = 0;
  while ((process.cpuUsage(start).user + process.cpuUsage(start).system) < 300000) x += Math.sqrt(x + 1);
  held.push(Buffer.alloc(64 * 1024 * 1024, 1));
  const u = process.cpuUsage();
  process.stdout.write(JSON.stringify({ cpuSec: (u.user + u.system) / 1e6, x }) + '\\n');
});
process.stdout.write('{"ready":true}\\n');
`;

async function busyChild(): Promise<{ child: ChildProcess; burn(): Promise<number> }> {
  const child = spawn(process.execPath, ['-e', BUSY], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const lines: string[] = [];
  let waiting: (() => void) | undefined;
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    lines.push(...d.split('\n').filter(Boolean));
    waiting?.();
  });
  const nextLine = async (): Promise<string> => {
    while (lines.length === 0) await new Promise<void>((r) => (waiting = r));
    return lines.shift()!;
  };
  await nextLine();
  return {
    child,
    burn: async () => {
      child.stdin!.write('go\n');
      return (JSON.parse(await nextLine()) as { cpuSec: number }).cpuSec;
    },
  };
}

describe('/proc readings of a real process', () => {
  it('reads the CPU time and peak RSS a child reports of itself', async () => {
    const { child, burn } = await busyChild();
    const own = await burn();
    const tick = 1 / clockTicksPerSec();
    expect(clockTicksPerSec()).toBe(100);
    // the child's own count and /proc's agree to the tick resolution of /proc
    expect(Math.abs(processCpuSec(child.pid!)! - own)).toBeLessThanOrEqual(2 * tick);
    expect(own).toBeGreaterThanOrEqual(0.3);
    expect(processPeakRssBytes(child.pid!)!).toBeGreaterThanOrEqual(64 * 1024 * 1024);
  });

  it('counts what a child run to its end (and its own child) cost, once waited for', () => {
    const before = waitedChildrenCpuSec(process.pid)!;
    // a shell (the child) waits for node (the grandchild), which burns 300 ms of CPU
    const burn = `const s = process.cpuUsage(); let x = 0; while (process.cpuUsage(s).user + process.cpuUsage(s).system < 300000) x += Math.sqrt(x + 1);`;
    const r = spawnSync('sh', ['-c', `"${process.execPath}" -e "${burn}"`]);
    expect(r.status).toBe(0);
    const spent = waitedChildrenCpuSec(process.pid)! - before;
    expect(spent).toBeGreaterThanOrEqual(0.3 - 2 / clockTicksPerSec());
  });

  it('gives undefined for a process that is gone', async () => {
    const child = spawn('true');
    await once(child, 'exit');
    expect(processCpuSec(child.pid!)).toBeUndefined();
    expect(waitedChildrenCpuSec(child.pid!)).toBeUndefined();
    expect(processPeakRssBytes(child.pid!)).toBeUndefined();
  });

  it('finds a process’s descendants', async () => {
    const sh = spawn('sh', ['-c', 'sleep 30 & sleep 30 & echo started; wait'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(sh);
    await once(sh.stdout!, 'data');
    const tree = processTree(sh.pid!);
    expect(tree[0]).toBe(sh.pid);
    expect(tree).toHaveLength(3);
    for (const pid of tree.slice(1)) process.kill(pid, 'SIGKILL');
  });

  it('meters a broker process over the run only: CPU used before the meter started is left out', async () => {
    const { child, burn } = await busyChild();
    const before = await burn();
    const meter = new ResourceMeter(() => [{ name: 'busy', pid: child.pid! }]);
    meter.markWindowStart();
    const after = await burn();
    meter.markWindowEnd();
    const r = meter.result(1_000_000);
    expect(r.brokers).not.toBe('not measured');
    const [b] = r.brokers as Exclude<typeof r.brokers, 'not measured'>;
    const tick = 1 / clockTicksPerSec();
    expect(b).toMatchObject({ name: 'busy', pid: child.pid, descendants: 0 });
    expect(Math.abs(b!.cpuSec - (after - before))).toBeLessThanOrEqual(3 * tick);
    expect(b!.peakRssBytes).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    // per million: the window's CPU (busbench's own, here tiny, plus the child's) over 1e6 messages
    expect(r.window!.messages).toBe(1_000_000);
    expect(r.cpuSecPerMillion).toBe(r.window!.cpuSec);
    expect(r.window!.cpuSec).toBeGreaterThanOrEqual(b!.cpuSec - 3 * tick);
    expect(totalPeakRssBytes(r)).toBe(r.busbench.peakRssBytes + b!.peakRssBytes);
    expect(r.busbench.peakRssBytes).toBeGreaterThan(0);
  });

  it('says "not measured" where the session names no processes', () => {
    const r = new ResourceMeter(undefined).result(0);
    expect(r.brokers).toBe('not measured');
    expect(r.cpuSecPerMillion).toBeNull();
  });
});
