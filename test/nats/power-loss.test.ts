/**
 * The power-loss scenario on NATS, through the CLI as a user runs it: the store directory
 * on the power-loss layer, a cut mid-run. With the server's default sync interval (2 min)
 * JetStream acknowledges writes it has not fsynced, and the cut takes them; with
 * `syncInterval: always` it fsyncs before every ack and loses none. Each configuration is
 * judged against what it promises: the first only survives a process crash, so its loss
 * is a finding (NOT DURABLE TO POWER LOSS), not a broken promise.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunResult, SystemResult } from '../../src/core/result.ts';
import { fuseProblem } from '../../src/brokers/powerfs/index.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const why = fuseProblem();
// CI has FUSE: there a missing /dev/fuse fails the test instead of skipping it
const skip = why !== undefined && process.env.CI !== 'true';
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function scenarioFile(dir: string): string {
  const doc = YAML.parse(fs.readFileSync(path.join(ROOT, 'scenarios', 'power-loss.yaml'), 'utf8')) as Record<string, unknown>;
  const file = path.join(dir, 'power-loss-nats.yaml');
  fs.writeFileSync(
    file,
    YAML.stringify({ ...doc, systems: ['nats'], duration: '8s', warmup: '1s', fault: { ...(doc.fault as object), at: '3s' }, matrix: { 'nats.syncInterval': ['default', 'always'] } }),
  );
  return file;
}

describe.skipIf(skip)(`the power-loss scenario on NATS${skip ? ` (skipped: ${why})` : ''}`, () => {
  it('loses acknowledged messages with the default sync interval and none with always, each as promised', { timeout: 240_000 }, () => {
    expect(why, 'the power-loss layer must run in CI').toBeUndefined();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-power-loss-'));
    dirs.push(dir);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/bench.ts', '--scenario', scenarioFile(dir), '--out', path.join(dir, 'results'), '--json'], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 220_000,
    });
    const doc = JSON.parse(r.stdout) as RunResult;
    const cell = (label: string): SystemResult => doc.systems.find((s) => String(s.config.label).startsWith(label))!;
    const weak = cell('syncInterval=default');
    const strong = cell('syncInterval=always');
    for (const s of [weak, strong]) expect(s.durability, `${String(s.config.label)}: ${r.stderr.slice(-2000)}`).toMatchObject({ injected: true, faultType: 'power-loss', promiseKept: true });
    expect(weak.durability).toMatchObject({ level: 'process-crash' });
    expect(weak.durability!.ackedLost as number).toBeGreaterThan(0);
    expect((weak.durability!.layer as { bytesDropped: number }).bytesDropped).toBeGreaterThan(0);
    expect(strong.durability).toMatchObject({ level: 'power-loss', ackedLost: 0 });
    // the drain stops once the broker says twice it holds nothing more, not at its 60 s deadline
    const drainMs = weak.intervals.filter((i) => i.phase === 'drain').length * 500;
    expect(drainMs).toBeLessThan(20_000);
    // the console table says so, in the words a user reads
    expect(r.stderr + r.stdout).toMatch(/NOT DURABLE TO POWER LOSS: lost acked data/);
    expect(fs.readFileSync('/proc/mounts', 'utf8')).not.toContain(dir);
  });
});
