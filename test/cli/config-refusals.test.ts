/**
 * A ring buffer option that cannot fit the run is a config refusal like any other: one
 * line, exit 2, nothing written. It used to be found only once the ring opened, as a
 * failed run (exit 1) with a result file.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('bench CLI config refusals', () => {
  it.each([
    [['--set', 'ringbuffer.capacity=1KiB'], /tps\.yaml: messageSize: expected a message that fits in a lane of 1024 bytes .*got 2048/],
    [['--set', 'ringbuffer.capacity=1KiB', '--set', 'ringbuffer.process=child'], /tps\.yaml: messageSize: .*2048-byte message does not fit/],
  ])('a 2048-byte message with %j: one line, exit 2, nothing written', (args, pattern) => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-cli-'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/bench.ts', '--scenario', 'tps', '--systems', 'ringbuffer', '--size', '2048', ...args, '--duration', '1s', '--out', out], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.status).toBe(2);
    expect(fs.readdirSync(out)).toEqual([]);
    fs.rmSync(out, { recursive: true, force: true });
  });
});
