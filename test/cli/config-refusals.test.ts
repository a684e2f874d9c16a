/**
 * A system option that cannot fit the run is a config refusal like any other: one line,
 * exit 2, nothing written. It used to be found only once the system opened, as a failed
 * run (exit 1) with a result file.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

function bench(args: string[], scenario = 'tps', env: NodeJS.ProcessEnv = {}): { stderr: string; status: number | null; written: string[] } {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-cli-'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/bench.ts', '--scenario', scenario, ...args, '--duration', '1s', '--out', out], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  const written = fs.readdirSync(out);
  fs.rmSync(out, { recursive: true, force: true });
  return { stderr: r.stderr, status: r.status, written };
}

function expectRefusal(r: ReturnType<typeof bench>, pattern: RegExp): void {
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.status).toBe(2);
  expect(r.written).toEqual([]);
}

describe('bench CLI config refusals', () => {
  it.each([
    [['--set', 'ringbuffer.capacity=1KiB'], /tps\.yaml: messageSize: expected a message that fits in a lane of 1024 bytes .*got 2048/],
    [['--set', 'ringbuffer.capacity=1KiB', '--set', 'ringbuffer.process=child'], /tps\.yaml: messageSize: .*2048-byte message does not fit/],
  ])('a 2048-byte message with %j: one line, exit 2, nothing written', (args, pattern) => {
    expectRefusal(bench(['--systems', 'ringbuffer', '--size', '2048', ...args]), pattern);
  });

  // Both are refused from the options and the run's shape alone: no broker is started.
  it.each([
    ['nats', ['--set', 'nats.ackPolicy=all', '--consumers', '2'], /nats\.ackPolicy "all" with 2 consumers/],
    ['pulsar', ['--set', 'pulsar.subscriptionType=exclusive', '--consumers', '2'], /tps\.yaml: pulsar\.subscriptionType: expected shared, key_shared or failover for 2 consumers/],
    ['pulsar', ['--set', 'pulsar.listenerName=external'], /pulsar\.listenerName: expected nothing with --brokers native/],
    ['pulsar', ['--set', 'pulsar.tokenFile=/nonexistent/token'], /pulsar\.tokenFile: expected a readable file holding one token/],
    ['nats', ['--keys', 'round-robin', '--set', 'nats.mode=core'], /tps\.yaml: keys: expected none with nats\.mode core \(partitions and keys are subjects of a JetStream stream.*got "round-robin"/],
    ['nats', ['--partitions', '4', '--set', 'nats.ackPolicy=all'], /tps\.yaml: nats\.ackPolicy: expected "explicit" or "none" with partitions above 1 .*got "all"/],
    ['pulsar', ['--partitions', '4', '--set', 'pulsar.partitions=3'], /tps\.yaml: pulsar\.partitions: expected 4 or unset \(the workload's partitions: 4 sets the topic's partitions\), got 3/],
    ['pulsar', ['--partitions', '0'], /--partitions 0: expected an integer from 1 to 256/],
    ['ringbuffer', ['--topics', '0'], /--topics 0: expected an integer from 1 to 64/],
    ['ringbuffer', ['--topics', '3', '--producers', '3', '--consumers', '2'], /tps\.yaml: topics: expected at most as many topics as producers and consumers \(2 consumers for 3 topics: consumer c reads topic c mod 3.*got 3/],
    ['pulsar', ['--key-space', '8'], /--key-space 8: needs --keys round-robin or random \(the scenario has no keys\)/],
  ])('%s with %j: one line, exit 2, nothing written', (system, args, pattern) => {
    expectRefusal(bench(['--systems', system, ...args]), pattern);
  });

  // A power cut needs brokers busbench runs itself, their data on FUSE, and a process to cut.
  it.each([
    ['nats', ['--brokers', 'external', '--url', 'nats=nats://127.0.0.1:1'], {}, /power-loss\.yaml.*: fault\.type: expected "kill" with --brokers external \(busbench cuts the power only of brokers it runs itself/],
    ['pulsar', ['--brokers', 'compose'], {}, /fault\.type: expected "kill" with --brokers compose/],
    ['ringbuffer', ['--set', 'ringbuffer.process=inline'], {}, /ringbuffer\.process: expected "child" with fault\.type power-loss .*got "inline"/],
    ['nats', [], { BUSBENCH_FUSE_DEVICE: '/nonexistent/fuse' }, /fault\.type: expected "kill" on this machine \(power-loss faults need \/nonexistent\/fuse/],
  ])('power-loss on %s with %j %j: one line, exit 2, nothing written', (system, args, env, pattern) => {
    expectRefusal(bench(['--systems', system, ...args], 'power-loss', env), pattern);
  });
});
