/** A backlog that cannot be run is refused before anything starts: one line, exit 2, nothing written. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

function bench(args: string[]): { stderr: string; status: number | null; written: string[] } {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-cli-'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/bench.ts', '--scenario', 'backlog', ...args, '--out', out], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 60_000 });
  const written = fs.readdirSync(out);
  fs.rmSync(out, { recursive: true, force: true });
  return { stderr: r.stderr, status: r.status, written };
}

describe('backlog refusals', () => {
  it.each([
    [['--systems', 'ringbuffer', '--rate', 'max'], /backlog\.yaml: rate: expected a fixed rate \(msg\/s or "N%"\) with backlog \(a closed loop stops at its in-flight window while the consumers are paused\), got "max"/],
    [['--systems', 'ringbuffer', '--rate', 'sustainable'], /rate: expected a fixed rate .* got "sustainable"/],
    [['--systems', 'ringbuffer', '--backlog', '3XB'], /--backlog 3XB: expected a size such as "512MB"/],
    [['--systems', 'ringbuffer', '--duration', '5s'], /--duration: not with a backlog/],
    [['--systems', 'ringbuffer', '--set', 'ringbuffer.capacity=64MiB'], /backlog: expected a backlog the ring's lanes hold: 250000 messages over 1 lane\(s\) need 258000000 bytes per lane, ringbuffer\.capacity is 67108864/],
    [['--systems', 'nats', '--set', 'nats.maxBytes=1000000'], /nats\.maxBytes: expected at least the backlog's 256000000 bytes, or -1/],
    [['--systems', 'nats', '--set', 'nats.maxMsgs=1000'], /nats\.maxMsgs: expected at least the backlog's 250000 messages/],
    [['--systems', 'nats', '--set', 'nats.mode=core'], /nats\.mode: expected "jetstream" with backlog/],
    [['--systems', 'nats', '--set', 'nats.ackPolicy=none'], /nats\.ackPolicy: expected "explicit" or "all" with backlog/],
  ])('%j: one line, exit 2, nothing written', (args, pattern) => {
    const r = bench(args);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.status).toBe(2);
    expect(r.written).toEqual([]);
  });
});
