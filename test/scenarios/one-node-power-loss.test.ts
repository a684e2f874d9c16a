/**
 * A power loss of one node (or a majority) of a cluster: `fault: {type: power-loss, kill:
 * bookie-1}`. The scenario reads the target for either fault type; only the Pulsar cluster
 * puts each node's data on a layer of its own, so everything else refuses a target other
 * than all with one line, exit 2, nothing written, before a broker starts. The cut of
 * several layers at once is checked on real FUSE mounts.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { validateScenario } from '../../src/scenario/scenario.ts';
import { LossyDataDir, LossyDataDirs } from '../../src/brokers/common/power-loss.ts';
import { fuseProblem } from '../../src/brokers/powerfs/index.ts';
import { NativePulsarCluster } from '../../src/brokers/pulsar/cluster.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const problem = fuseProblem();
const skipNote = problem ? ` (SKIPPED: ${problem})` : '';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-nodecut-'));
  dirs.push(d);
  return d;
}

const base = { description: 'x', systems: ['nats', 'pulsar'], rate: 1000, duration: '1s' };
const fault = (f: unknown) => validateScenario({ ...base, fault: f }, 'scenarios/x.yaml', ['nats', 'pulsar']).fault;

describe('fault.kill with fault.type power-loss', () => {
  it('names the nodes that lose power: one, a majority, or all', () => {
    expect(fault({ type: 'power-loss', mode: 'torn', kill: 'bookie-1', at: '3s' })?.kind).toEqual({ type: 'power-loss', mode: 'torn', target: { node: 'bookie-1' } });
    expect(fault({ type: 'power-loss', kill: 'majority', at: '3s' })?.kind).toEqual({ type: 'power-loss', mode: 'lose-unsynced', target: 'majority' });
    expect(fault({ type: 'power-loss', at: '3s' })?.kind).toEqual({ type: 'power-loss', mode: 'lose-unsynced' });
    expect(() => fault({ type: 'power-loss', kill: 'bookie-0', at: '3s' })).toThrow('scenarios/x.yaml: fault.kill: expected all, majority, or one node: nats-<n>, zk-<n>, bookie-<n>, broker-<n> (e.g. bookie-1), got "bookie-0"');
  });

  it('the cluster puts only the target nodes on the layer: one folder each, the rest on plain disk', () => {
    const dir = tmp();
    const layer = (target: 'majority' | { node: string }): unknown => new NativePulsarCluster({ dir, powerLoss: { writeback: false }, powerLossTarget: target }).describe().dataLayer;
    expect(layer({ node: 'bookie-1' })).toBe(`power-loss layer over ${path.join(dir, 'data', 'bookie-1')}.backing`);
    expect(String(layer('majority')).split(', ').map((p) => path.basename(p))).toEqual(['zk-1.backing', 'zk-2.backing', 'bookie-1.backing', 'bookie-2.backing', 'broker-1.backing', 'broker-2.backing']);
    expect(new NativePulsarCluster({ dir, powerLoss: { writeback: false } }).describe().dataLayer).toBe(`power-loss layer over ${path.join(dir, 'data')}.backing`);
  });
});

describe.skipIf(Boolean(problem))(`one-node power loss refused where the nodes share one layer${skipNote}`, () => {
  function bench(yaml: string, systems: string): { stderr: string; status: number | null; written: string[] } {
    const d = tmp();
    const file = path.join(d, 'node-cut.yaml');
    fs.writeFileSync(file, yaml);
    const out = path.join(d, 'out');
    fs.mkdirSync(out);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/bench.ts', '--scenario', file, '--systems', systems, '--out', out], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 120_000 });
    return { stderr: r.stderr, status: r.status, written: fs.readdirSync(out) };
  }
  const scenario = (kill: string, system: string): string =>
    `description: x\nsystems: [nats, pulsar]\nrate: 100\nduration: 1s\nfault: {type: power-loss, mode: torn, kill: ${kill}, at: 1s}\n${system}\n`;

  it.each([
    ['nats-2', 'nats', 'nats: {topology: cluster3}'],
    ['majority', 'nats', 'nats: {topology: cluster3}'],
    ['bookie-1', 'pulsar', 'pulsar: {topology: standalone}'],
  ])('kill: %s on %s (%s): one line, exit 2, nothing written', (kill, system, options) => {
    const r = bench(scenario(kill, options), system);
    expect(r.stderr).toMatch(new RegExp(`fault\\.kill: expected all with fault\\.type power-loss here \\(only pulsar\\.topology cluster puts each node's data on a power-loss layer of its own\\), got "${kill}"`));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.status).toBe(2);
    expect(r.written).toEqual([]);
  });
});

describe.skipIf(Boolean(problem))(`LossyDataDirs: several nodes' folders cut together${skipNote}`, () => {
  it('drops what each folder left unsynced, and names each torn file by its node', async () => {
    const d = tmp();
    const group = new LossyDataDirs(['bookie-1', 'bookie-2'].map((name) => ({ name, dir: new LossyDataDir(path.join(d, name), { writeback: false }) })));
    await group.mount();
    try {
      for (const name of ['bookie-1', 'bookie-2']) {
        const fd = fs.openSync(path.join(d, name, 'journal.txn'), 'w');
        fs.writeSync(fd, Buffer.alloc(4096, 1));
        fs.fsyncSync(fd);
        fs.writeSync(fd, Buffer.alloc(6000, 2)); // crosses the 8 KiB boundary: torn there
        fs.closeSync(fd);
      }
      const cut = await group.cut('torn');
      expect(cut.mode).toBe('torn');
      expect(cut.filesAffected).toBe(2);
      expect(cut.bytesDropped).toBe(2 * (4096 + 6000 - 8192));
      expect(cut.tornFiles.sort()).toEqual(['bookie-1/journal.txn', 'bookie-2/journal.txn']);
      for (const name of ['bookie-1', 'bookie-2']) expect(fs.statSync(path.join(d, name, 'journal.txn')).size).toBe(8192);
    } finally {
      await group.unmount();
    }
    // back on plain disk, where the run folder's readers expect the files
    expect(fs.statSync(path.join(d, 'bookie-1', 'journal.txn')).size).toBe(8192);
    expect(fs.existsSync(path.join(d, 'bookie-1.backing'))).toBe(false);
  });
});
