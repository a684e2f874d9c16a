import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSystems, loadScenario, validateScenario, scenarioNames, parseDurationMs, parseRate } from '../../src/scenario/scenario.ts';
import { applyFlags, parseFlags } from '../../src/scenario/flags.ts';
import { ConfigError, UsageError } from '../../src/core/errors.ts';

const systems = ['ringbuffer', 'nats', 'pulsar'];

describe('scenario files', () => {
  it('ships tps, latency and soak, all valid', () => {
    expect(scenarioNames()).toEqual(expect.arrayContaining(['tps', 'latency', 'soak']));
    for (const name of scenarioNames()) expect(() => loadScenario(name, systems)).not.toThrow();
    const tps = loadScenario('tps', systems);
    expect(tps.rates).toEqual([{ kind: 'max' }]);
    expect(tps.messageSize).toBe(512);
    expect(loadScenario('latency', systems).rates.every((r) => r.kind === 'fraction')).toBe(true);
  });

  it('names the file, the field and what was expected', () => {
    const bad = (doc: unknown): string => {
      try {
        validateScenario(doc, 'scenarios/x.yaml', systems);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(bad({ duration: 'forever' })).toBe('scenarios/x.yaml: duration: expected a duration such as "500ms", "30s", "2m", "1h" or a number of seconds, at least 100 ms, got "forever"');
    expect(bad({ producers: 0 })).toMatch(/^scenarios\/x.yaml: producers: expected an integer from 1 to 64, got 0$/);
    expect(() => checkSystems(validateScenario({ systems: ['kafka'] }, 'scenarios/x.yaml', systems), systems)).toThrow(/x.yaml: systems\[0\]: expected one of ringbuffer, nats, pulsar, got "kafka"/);
    expect(bad({ rate: ['50%', 'fast'] })).toMatch(/rate\[1\]/);
    expect(bad({ sizee: 3 })).toMatch(/sizee: expected one of the fields/);
    expect(bad({ messageSize: 10 })).toMatch(/messageSize/);
  });

  it('validates the exactly-once plan field by field', () => {
    const plan = validateScenario({ exactlyOnce: { guarantee: 'exactly-once', stages: 4, retryEvery: '500ms', crashEvery: '2s' } }, 'x.yaml', systems).exactlyOnce!;
    expect(plan).toEqual({ guarantees: ['exactly-once'], stages: 4, retryEveryMs: 500, crashEveryMs: 2000, consumer: 'correct', accounts: 1000 });
    expect(validateScenario({ exactlyOnce: {} }, 'x.yaml', systems).exactlyOnce!.guarantees).toEqual(['exactly-once', 'at-least-once']);
    const err = (doc: unknown): string => {
      try {
        checkSystems(validateScenario(doc, 'x.yaml', systems), systems);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(err({ exactlyOnce: { guarantee: 'twice' } })).toBe('x.yaml: exactlyOnce.guarantee: expected one of exactly-once, at-least-once, got "twice"');
    expect(err({ exactlyOnce: { consumer: 'sloppy' } })).toMatch(/exactlyOnce.consumer: expected one of correct, apply-twice, drop/);
    expect(err({ exactlyOnce: { stagez: 2 } })).toMatch(/exactlyOnce.stagez: expected one of the fields/);
    expect(err({ exactlyOnce: {}, consumers: 2 })).toMatch(/consumers: expected 1 when the scenario has exactlyOnce/);
  });

  it('reads the fault: kill by default, power-loss with its mode, and refuses what is neither', () => {
    const base = { systems: ['nats'], duration: '5s' };
    const fault = (f: unknown) => validateScenario({ ...base, fault: f }, 'scenarios/x.yaml', systems).fault;
    expect(fault({ at: '2s', downtime: '1s' })).toEqual({ atMs: 2000, downtimeMs: 1000, kind: { type: 'kill' } });
    expect(fault({ type: 'power-loss', at: '2s' })).toEqual({ atMs: 2000, downtimeMs: 0, kind: { type: 'power-loss', mode: 'lose-unsynced' } });
    expect(fault({ type: 'power-loss', at: '2s', mode: 'torn' })?.kind).toEqual({ type: 'power-loss', mode: 'torn' });
    expect(() => fault({ type: 'reboot', at: '2s' })).toThrow('scenarios/x.yaml: fault.type: expected "kill" or "power-loss", got "reboot"');
    expect(() => fault({ type: 'power-loss', at: '2s', mode: 'half' })).toThrow(/fault\.mode: expected .*"lose-unsynced".*"torn".*got "half"/);
    expect(() => fault({ at: '2s', mode: 'torn' })).toThrow(/fault\.mode: expected no mode with fault\.type kill/);
    expect(() => fault({ at: '2s', when: 1 })).toThrow(/fault\.when: expected one of the fields type, at, downtime, mode/);
    // a kill target: its form here, whether the system runs it in the system's checkRun
    expect(fault({ kill: 'bookie-1', at: '2s' })?.kind).toEqual({ type: 'kill', target: { node: 'bookie-1' } });
    expect(fault({ kill: 'majority', at: '2s' })?.kind).toEqual({ type: 'kill', target: 'majority' });
    expect(fault({ type: 'kill', kill: 'all', at: '2s' })?.kind).toEqual({ type: 'kill', target: 'all' });
    expect(() => fault({ kill: 'bookie-0', at: '2s' })).toThrow('scenarios/x.yaml: fault.kill: expected all, majority, or one node: nats-<n>, zk-<n>, bookie-<n>, broker-<n> (e.g. bookie-1), got "bookie-0"');
    expect(() => fault({ kill: 2, at: '2s' })).toThrow(/fault\.kill: expected all, majority, or one node/);
    // a power loss of one node: the system decides whether it can (test/scenarios/one-node-power-loss.test.ts)
    expect(fault({ type: 'power-loss', kill: 'nats-2', at: '2s' })?.kind).toEqual({ type: 'power-loss', mode: 'lose-unsynced', target: { node: 'nats-2' } });
  });

  it('reads rate: sustainable and its search, and refuses bad search settings by name', () => {
    const sc = (sustainable: unknown) => validateScenario({ rate: 'sustainable', sustainable }, 'scenarios/x.yaml', systems);
    expect(sc({}).rates).toEqual([{ kind: 'sustainable' }]);
    expect(sc({}).sustainable).toEqual({ fromPerSec: 1000, maxPerSec: 10_000_000, stepMs: 5000, stepWarmupMs: 1000, maxSteps: 16, precision: 0.05 });
    expect(sc({ from: '20k', max: '1M', step: '2s', warmup: '500ms', maxSteps: 8, precision: '10%', slo: { p99: '10ms' } }).sustainable).toEqual({ fromPerSec: 20_000, maxPerSec: 1_000_000, stepMs: 2000, stepWarmupMs: 500, maxSteps: 8, precision: 0.1, sloP99Us: 10_000 });
    expect(() => sc({ from: 'fast' })).toThrow('scenarios/x.yaml: sustainable.from: expected a positive number of msg/s (e.g. 50000 or "50k"), got "fast"');
    expect(() => sc({ from: '50k', max: '10k' })).toThrow('scenarios/x.yaml: sustainable.max: expected a rate at least sustainable.from (50000), got "10k"');
    expect(() => sc({ steps: 3 })).toThrow(/sustainable\.steps: expected one of from, max, step, warmup, maxSteps, precision, slo, got "steps"/);
    expect(() => sc({ slo: { p95: '5ms' } })).toThrow(/sustainable\.slo: expected a mapping \{p99: <duration>\}/);
    expect(() => sc({ maxSteps: 1 })).toThrow(/sustainable\.maxSteps: expected .*2.*got 1/);
  });

  it('reports YAML syntax errors with the file name', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-scn-'));
    const f = path.join(dir, 'broken.yaml');
    fs.writeFileSync(f, 'rate: [1, 2\nduration: 3s\n');
    expect(() => loadScenario(f, systems)).toThrow(/broken.yaml: \(syntax\): expected valid YAML/);
  });

  it('parses durations and rates', () => {
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs('2m')).toBe(120_000);
    expect(parseDurationMs(3)).toBe(3000);
    expect(parseDurationMs('3 days')).toBeUndefined();
    expect(parseRate('50k')).toEqual({ kind: 'fixed', perSec: 50_000 });
    expect(parseRate('1M')).toEqual({ kind: 'fixed', perSec: 1_000_000 });
    expect(parseRate('25%')).toEqual({ kind: 'fraction', of: 0.25 });
    expect(parseRate('150%')).toBeUndefined();
    expect(parseRate(0)).toBeUndefined();
  });
});

describe('CLI flags', () => {
  it('override the scenario', () => {
    const f = parseFlags(['--scenario', 'tps', '--systems', 'ringbuffer', '--duration', '2s', '--warmup=500ms', '--rate', '1000', '--size', '256', '--set', 'nats.storage=memory'], systems);
    const s = applyFlags(loadScenario('tps', systems), f);
    expect(s.systems).toEqual(['ringbuffer']);
    expect(s.durationMs).toBe(2000);
    expect(s.warmupMs).toBe(500);
    expect(s.rates).toEqual([{ kind: 'fixed', perSec: 1000 }]);
    expect(s.messageSize).toBe(256);
    expect(s.systemOptions.nats).toEqual({ storage: 'memory' });
  });

  it('rejects bad flags with one line naming the value and what is valid', () => {
    const msg = (argv: string[]): string => {
      try {
        parseFlags(argv, systems);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        expect((e as Error).message).not.toContain('\n');
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(msg(['--bogus'])).toMatch(/unknown flag --bogus; valid flags: --scenario/);
    expect(msg(['--systems', 'kafka'])).toMatch(/unknown system "kafka"; valid: ringbuffer, nats, pulsar/);
    expect(msg(['--duration', '10'])).toMatch(/--duration 10: expected a duration with a unit/);
    expect(msg(['--rate', 'fast'])).toMatch(/--rate fast/);
    expect(msg(['--producers', '0'])).toMatch(/--producers 0: expected an integer from 1 to 64/);
    expect(msg(['--size', '12'])).toMatch(/--size 12: expected an integer from \d+ to 1048576/);
    expect(msg(['--brokers', 'k8s'])).toMatch(/--brokers k8s: expected native, compose or external/);
    expect(msg(['--scenario'])).toMatch(/--scenario needs a value/);
  });
});
