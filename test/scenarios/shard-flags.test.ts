/** --shard, --start-at and --processes: what a shard can run, and the one-line refusals. */
import { describe, expect, it } from 'vitest';
import { parseFlags, applyFlags } from '../../src/scenario/flags.ts';
import { loadScenario } from '../../src/scenario/scenario.ts';
import { checkShardable, shardFlag, startAtFlag, START_GRACE_MS } from '../../src/scenario/shard.ts';
import { anchoredStart } from '../../src/harness/shard-run.ts';
import type { RunSpec } from '../../src/harness/runner.ts';
import { monoNs } from '../../src/core/clock.ts';

const SYSTEMS = ['ringbuffer', 'nats', 'pulsar'];
const NOW = Date.parse('2026-12-02T07:00:00Z');

describe('shard flags', () => {
  it('reads i/N and refuses anything else', () => {
    expect(shardFlag('2/3')).toEqual({ index: 2, count: 3 });
    for (const bad of ['3/3', '1', '-1/3', '0/0', 'a/b', '0/65']) expect(() => shardFlag(bad)).toThrow(/--shard .*expected <index>\/<count>/);
  });

  it('takes a start within the grace or up to an hour ahead, and refuses the rest', () => {
    expect(startAtFlag('2026-12-02T07:10:00Z', NOW)).toBe(NOW + 600_000);
    expect(startAtFlag(new Date(NOW - START_GRACE_MS + 1).toISOString(), NOW)).toBe(NOW - START_GRACE_MS + 1);
    expect(() => startAtFlag('2026-12-02T06:59:50Z', NOW)).toThrow(/10\.0 s in the past/);
    expect(() => startAtFlag('2026-12-02T09:00:00Z', NOW)).toThrow(/120\.0 min ahead; expected at most 60 min/);
    expect(() => startAtFlag('2026-12-02 07:10', NOW)).toThrow(/expected an ISO 8601 time with a zone/);
    expect(() => startAtFlag('2026-12-02T07:10:00', NOW)).toThrow(/with a zone/);
  });

  it('needs --start-at with --shard, and not both --shard and --processes', () => {
    expect(() => parseFlags(['--shard', '0/2'], SYSTEMS)).toThrow(/--shard 0\/2: needs --start-at/);
    const at = new Date(Date.now() + 60_000).toISOString();
    expect(() => parseFlags(['--start-at', at], SYSTEMS)).toThrow(/only with --shard or --processes/);
    expect(() => parseFlags(['--shard', '0/2', '--start-at', at, '--processes', '2'], SYSTEMS)).toThrow(/leave out --shard/);
  });

  it('refuses scenarios a shard cannot run, naming why', () => {
    const scenario = (args: string[]) => applyFlags(loadScenario('tps', SYSTEMS), parseFlags(['--scenario', 'tps', ...args], SYSTEMS));
    const ok = scenario(['--systems', 'nats', '--producers', '4', '--consumers', '2']);
    expect(() => checkShardable(ok, 2, 'external', '--shard 0/2')).not.toThrow();
    expect(() => checkShardable(ok, 2, 'native', '--shard 0/2')).toThrow(/--shard 0\/2: needs --brokers external/);
    // --processes may start one native broker its shards share; compose runs none to share
    expect(() => checkShardable(ok, 2, 'native', '--processes 2', true)).not.toThrow();
    expect(() => checkShardable(ok, 2, 'compose', '--processes 2', true)).toThrow(/--processes 2: needs --brokers external or native .*, got --brokers compose/);
    expect(() => checkShardable(ok, 4, 'external', '--shard 0/4')).toThrow(/consumers 2 is not a multiple of 4 shards/);
    expect(() => checkShardable(ok, 3, 'external', '--processes 3')).toThrow(/--processes 3: producers 4 is not a multiple of 3/);
    expect(() => checkShardable(scenario([]), 1, 'external', '--shard 0/1')).toThrow(/runs one system/);
    expect(() => checkShardable(scenario(['--systems', 'nats', '--rate', '50%']), 1, 'external', '--shard 0/1')).toThrow(/needs a probe or a search/);
    expect(() => checkShardable(loadScenario('persistence', SYSTEMS), 1, 'external', 'x')).toThrow(/x: /);
  });
});

describe('anchoredStart', () => {
  const spec = (ratePerSec: number) => ({ ratePerSec }) as unknown as RunSpec;
  it('maps the common start onto the monotonic clock once, shard i phased i/R at a fixed rate', () => {
    const at = Date.now() + 2000;
    const before = monoNs();
    const a = anchoredStart(spec(1000), { index: 1, count: 3, startAt: 'x', startEpochMs: at });
    // shard 1 of 3 at 1000 msg/s each: the whole run's rate is 3000, its phase 1/3000 s
    expect(a.startEpochMs).toBeCloseTo(at + 1 / 3, 6);
    expect(a.startNs - before).toBeGreaterThan(1.95e9);
    expect(a.startNs - before).toBeLessThan(2.1e9);
    expect(a.lateMs).toBe(0);
    expect(anchoredStart(spec(0), { index: 2, count: 3, startAt: 'x', startEpochMs: at }).startEpochMs).toBe(at);
  });

  it('fails a run whose start passed beyond the grace while the system opened', () => {
    const at = new Date(Date.now() - START_GRACE_MS - 2000);
    expect(() => anchoredStart(spec(0), { index: 0, count: 2, startAt: at.toISOString(), startEpochMs: at.getTime() })).toThrow(/shard 0\/2: --start-at .* passed \d+ ms before the workers were ready \(grace 1000 ms\)/);
  });
});
