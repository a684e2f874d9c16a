/**
 * Rate schedules: the YAML and flag forms and each bad form's one-line message, the CLI's
 * refusal (exit 2, nothing written), and the intended-time arithmetic of steps and ramps:
 * the count intended in [0, T] is the schedule's integral, times are monotone, and the
 * producers' phase-shifted schedules together are the whole schedule.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSystems, validateScenario, type Scenario } from '../../src/scenario/scenario.ts';
import { applyFlags, parseFlags } from '../../src/scenario/flags.ts';
import { ConfigError, UsageError } from '../../src/core/errors.ts';
import { RateProfile } from '../../src/core/rate-profile.ts';
import { Schedule, intendedTotal } from '../../src/harness/schedule.ts';

const systems = ['ringbuffer', 'nats', 'pulsar'];
const ROOT = path.resolve(import.meta.dirname, '../..');

function scenario(doc: Record<string, unknown>): Scenario {
  const s = validateScenario(doc, 'x.yaml', systems);
  checkSystems(s, systems);
  return s;
}

function refusal(doc: Record<string, unknown>): string {
  try {
    scenario(doc);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('no error');
}

describe('rate schedules in a scenario', () => {
  it('reads steps and a ramp; the window is the schedule', () => {
    const steps = scenario({ rate: { steps: [{ for: '30s', rate: '10k' }, { for: 30, rate: 50000 }] } });
    expect(steps.rates).toEqual([{ kind: 'schedule', schedule: { kind: 'steps', segments: [{ durationMs: 30_000, fromPerSec: 10_000, toPerSec: 10_000 }, { durationMs: 30_000, fromPerSec: 50_000, toPerSec: 50_000 }] } }]);
    expect(steps.durationMs).toBe(60_000);
    const ramp = scenario({ rate: { ramp: { from: '10k', to: '200k', over: '60s' } }, duration: '1m' });
    expect(ramp.rates).toEqual([{ kind: 'schedule', schedule: { kind: 'ramp', segments: [{ durationMs: 60_000, fromPerSec: 10_000, toPerSec: 200_000 }] } }]);
    expect(ramp.durationMs).toBe(60_000);
  });

  it('refuses each bad form in one line naming it and what is valid', () => {
    expect(refusal({ rate: { steps: [{ for: '30s', rate: '10k' }], ramp: {} } })).toMatch(/^x\.yaml: rate: expected a mapping with "steps" .* or "ramp" .*, got /);
    expect(refusal({ rate: { stairs: [] } })).toMatch(/^x\.yaml: rate\.stairs: expected a mapping with "steps"/);
    expect(refusal({ rate: { steps: [] } })).toMatch(/^x\.yaml: rate\.steps: expected a list of 1 to 1000 steps \{for: <duration>, rate: <msg\/s>\}, got \[\]$/);
    expect(refusal({ rate: { steps: [{ for: '1s', rate: '1k' }, { for: '1s', rate: 'fast' }] } })).toMatch(/^x\.yaml: rate\.steps\[1\]\.rate: expected a positive number of msg\/s \(e\.g\. 10000 or "10k"\), got "fast"$/);
    expect(refusal({ rate: { steps: [{ for: '1s', rate: 0 }] } })).toMatch(/rate\.steps\[0\]\.rate: expected a positive number of msg\/s .*got 0$/);
    expect(refusal({ rate: { steps: [{ for: '10ms', rate: 5 }] } })).toMatch(/rate\.steps\[0\]\.for: expected a duration such as "500ms" or "30s", at least 100 ms, got "10ms"$/);
    expect(refusal({ rate: { steps: [{ rate: 5 }] } })).toMatch(/rate\.steps\[0\]\.for: expected \{for: <duration>, rate: <msg\/s>\}, got nothing$/);
    expect(refusal({ rate: { steps: [{ for: '1s', rate: 5, to: 6 }] } })).toMatch(/rate\.steps\[0\]\.to: expected one of the fields for, rate, got "to"$/);
    expect(refusal({ rate: { ramp: { from: '10k', to: '50%', over: '1s' } } })).toMatch(/^x\.yaml: rate\.ramp\.to: expected a positive number of msg\/s .*got "50%"$/);
    expect(refusal({ rate: { ramp: { from: '10k', to: '20k' } } })).toMatch(/rate\.ramp\.over: expected \{from: <msg\/s>, to: <msg\/s>, over: <duration>\}, got nothing$/);
    // a list stays a list of separate runs: a schedule is not one of its items
    expect(refusal({ rate: [1000, { steps: [{ for: '1s', rate: 5 }] }] })).toMatch(/^x\.yaml: rate\[1\]: expected "max", .*or a schedule/);
    expect(refusal({ rate: { steps: [{ for: '1s', rate: 5 }, { for: '2s', rate: 6 }] }, duration: '2s' })).toBe('x.yaml: duration: expected 3s, the length of the rate schedule (or no duration), got "2s"');
    expect(refusal({ rate: { steps: [{ for: '1500ms', rate: 5 }] }, interval: '1s' })).toBe('x.yaml: rate.steps[0].for: expected a multiple of interval (1000 ms), got "1500 ms"');
  });
});

describe('rate schedules on the command line', () => {
  const base = validateScenario({ rate: 1000, duration: '5s' }, 'x.yaml', systems);
  const flagged = (...argv: string[]): Scenario => {
    const s = applyFlags(base, parseFlags(['--scenario', 'x', ...argv], systems));
    checkSystems(s, systems);
    return s;
  };

  it('reads steps:… and ramp:…, and the window follows the schedule', () => {
    const steps = flagged('--rate', 'steps:10k/30s,50k/30s');
    expect(steps.rates).toEqual([{ kind: 'schedule', schedule: { kind: 'steps', segments: [{ durationMs: 30_000, fromPerSec: 10_000, toPerSec: 10_000 }, { durationMs: 30_000, fromPerSec: 50_000, toPerSec: 50_000 }] } }]);
    expect(steps.durationMs).toBe(60_000);
    const ramp = flagged('--rate', 'ramp:10k..200k/1m', '--duration', '60s');
    expect(ramp.rates[0]).toEqual({ kind: 'schedule', schedule: { kind: 'ramp', segments: [{ durationMs: 60_000, fromPerSec: 10_000, toPerSec: 200_000 }] } });
  });

  it('refuses a bad form in one line', () => {
    for (const bad of ['steps:', 'steps:10k', 'steps:10k/30', 'steps:0/1s', 'steps:10k..20k/1s', 'ramp:10k/1s', 'ramp:10k..x/1s', 'ramp:1..2/50ms']) {
      expect(() => parseFlags(['--rate', bad], systems), bad).toThrow(UsageError);
      try {
        parseFlags(['--rate', bad], systems);
      } catch (e) {
        expect((e as Error).message).toBe(`--rate ${bad}: expected steps:<rate>/<duration>,... (e.g. steps:10k/30s,50k/30s) or ramp:<from>..<to>/<duration> (e.g. ramp:10k..200k/60s), rates > 0, durations with a unit of at least 100 ms`);
      }
    }
    expect(() => flagged('--rate', 'steps:1k/1s,2k/1s', '--duration', '5s')).toThrow(/^x\.yaml: duration: expected 2s, the length of the rate schedule \(or no duration\), got "5s"$/);
  });

  it('the CLI refuses a bad schedule with exit 2 and writes nothing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-sched-'));
    const file = path.join(dir, 'sched.yaml');
    fs.writeFileSync(file, 'systems: [ringbuffer]\nrate:\n  steps:\n    - {for: 1s, rate: 2k}\n    - {for: 1s, rate: lots}\n');
    const out = path.join(dir, 'out');
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'bench/bench.ts', '--scenario', file, '--out', out, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 60_000 });
    const r = run([]);
    const flag = run(['--rate', 'ramp:1k..2k']);
    const written = fs.existsSync(out) ? fs.readdirSync(out) : [];
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.stderr.trim()).toMatch(/sched\.yaml: rate\.steps\[1\]\.rate: expected a positive number of msg\/s \(e\.g\. 10000 or "10k"\), got "lots"$/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.status).toBe(2);
    expect(flag.stderr.trim()).toMatch(/^busbench: --rate ramp:1k\.\.2k: expected steps:/);
    expect(flag.status).toBe(2);
    expect(written).toEqual([]);
  });
});

describe('intended send times of a schedule', () => {
  const S = 1e9; // ns
  const cases: Array<[string, RateProfile, (t: number) => number]> = [
    // warm-up 0.5 s at 2k, then 2k for 1 s, 8k for 1 s
    ['steps', new RateProfile(2000, 0.5 * S, [{ durationMs: 1000, fromPerSec: 2000, toPerSec: 2000 }, { durationMs: 1000, fromPerSec: 8000, toPerSec: 8000 }]), (t) => (t <= 1.5 ? 2000 * t : 3000 + 8000 * (t - 1.5))],
    // warm-up 0.5 s at 1k, then a ramp 1k → 5k over 2 s: ∫ = 500 + 1000τ + 1000τ²
    ['ramp', new RateProfile(1000, 0.5 * S, [{ durationMs: 2000, fromPerSec: 1000, toPerSec: 5000 }]), (t) => (t <= 0.5 ? 1000 * t : 500 + 1000 * (t - 0.5) + 1000 * (t - 0.5) ** 2)],
    // a ramp down: 9k → 1k over 1 s, and the last rate after it (only late messages live there)
    ['ramp down', new RateProfile(9000, 0, [{ durationMs: 1000, fromPerSec: 9000, toPerSec: 1000 }]), (t) => (t <= 1 ? 9000 * t - 4000 * t * t : 5000 + 1000 * (t - 1))],
  ];

  it.each(cases)('%s: the count intended in [0, T) is the integral, rounded up, and times rise', (_name, profile, integral) => {
    for (let t = 0.05; t <= 2.5; t += 0.05) {
      expect(profile.countAt(t * S)).toBeCloseTo(integral(Math.min(t, 2.5)), 6);
    }
    let last = -1;
    for (let j = 0; j < 10_000; j++) {
      const t = profile.timeOfNs(j);
      expect(t).toBeGreaterThan(last);
      last = t;
      // message j lies where the integral reaches j
      expect(profile.countAt(t)).toBeCloseTo(j, 6);
    }
    for (const producers of [1, 3]) {
      for (const T of [0.7, 1.5, 2.0, 2.5]) {
        const n = intendedTotal(0, T * S, profile, producers);
        expect(Math.abs(n - integral(T))).toBeLessThan(producers);
        expect(n).toBeGreaterThanOrEqual(Math.floor(integral(T)));
      }
    }
  });

  it('shares the schedule among phase-shifted producers: together they are the whole schedule', () => {
    const profile = cases[1]![1];
    const all = [0, 1, 2].flatMap((p) => {
      const s = new Schedule(0, profile, 3, p);
      return Array.from({ length: s.countBefore(2.5 * S) }, (_, k) => s.intendedNs(k));
    });
    all.sort((a, b) => a - b);
    expect(all).toHaveLength(6500);
    all.forEach((t, j) => expect(t).toBe(Math.round(profile.timeOfNs(j))));
  });

  it('a step changes the rate at its boundary exactly', () => {
    const profile = cases[0]![1];
    expect(profile.timeOfNs(3000)).toBeCloseTo(1.5 * S, 0);
    expect(profile.timeOfNs(3001) - profile.timeOfNs(3000)).toBeCloseTo(S / 8000, 3);
    expect(profile.timeOfNs(2999) - profile.timeOfNs(2998)).toBeCloseTo(S / 2000, 3);
    expect(profile.lowestPerSec(0.5 * S, 2.5 * S)).toBe(2000);
  });
});
