/**
 * A kill target on a native 3-node NATS cluster: kill -9 of nats-2 takes that server
 * only, and restart() brings back only it, on its own store, while nats-1 and nats-3 run
 * on (same pids). Before kill targets, kill() took all three and restart() restarted all.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NativeNats } from '../../src/brokers/nats/native.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-nats-node-kill-'));
const nats = new NativeNats({ dir, topology: 'cluster3' });
afterAll(async () => {
  await nats.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('kill of one node of a NATS cluster', () => {
  it('kills and restarts nats-2 alone', { timeout: 120_000 }, async () => {
    await nats.start();
    const before = new Map(nats.processes().map((p) => [p.name, p.pid]));
    expect([...before.keys()]).toEqual(['nats-server n1', 'nats-server n2', 'nats-server n3']);
    await nats.kill({ node: 'nats-2' });
    expect(nats.processes().map((p) => p.name)).toEqual(['nats-server n1', 'nats-server n3']);
    await nats.restart();
    const after = new Map(nats.processes().map((p) => [p.name, p.pid]));
    expect(after.get('nats-server n1')).toBe(before.get('nats-server n1'));
    expect(after.get('nats-server n3')).toBe(before.get('nats-server n3'));
    expect(after.get('nats-server n2')).toBeGreaterThan(0);
    expect(after.get('nats-server n2')).not.toBe(before.get('nats-server n2'));
    // a majority: nats-1 and nats-2
    await nats.kill('majority');
    expect(nats.processes().map((p) => p.name)).toEqual(['nats-server n3']);
    await nats.restart();
    expect(nats.processes()).toHaveLength(3);
  });
});
