import { describe, expect, it } from 'vitest';
import { backlogFlag, backlogPlan, backlogTarget, maxBuildMs, parseSizeBytes } from '../../src/scenario/backlog.ts';
import { validateScenario } from '../../src/scenario/scenario.ts';
import { caughtUpLevel, judgeBacklog, type BacklogPhases } from '../../src/checks/backlog-drain.ts';

describe('backlog: parsing', () => {
  it('reads sizes in decimal and binary units, and counts', () => {
    expect(parseSizeBytes('1GB')).toBe(1e9);
    expect(parseSizeBytes('1GiB')).toBe(2 ** 30);
    expect(parseSizeBytes('512 kb')).toBe(512_000);
    expect(parseSizeBytes('3XB')).toBeUndefined();
    expect(backlogPlan('f', { size: '1MB' })).toEqual({ target: { bytes: 1e6 }, maxDrainMs: 60_000 });
    expect(backlogPlan('f', { messages: '100k', maxDrain: '2m', maxBuild: '30s' })).toEqual({ target: { messages: 100_000 }, maxDrainMs: 120_000, maxBuildMs: 30_000 });
    expect(backlogFlag('100k').target).toEqual({ messages: 100_000 });
    expect(backlogFlag('1GiB').target).toEqual({ bytes: 2 ** 30 });
  });

  it('a size is whole messages of the run\'s size, and maxBuild defaults to twice the build time + 5 s', () => {
    expect(backlogTarget({ target: { bytes: 1e6 }, maxDrainMs: 1 }, 1000)).toEqual({ messages: 1000, bytes: 1e6 });
    expect(backlogTarget({ target: { bytes: 1001 }, maxDrainMs: 1 }, 1000)).toEqual({ messages: 2, bytes: 2000 });
    expect(maxBuildMs({ target: { messages: 10_000 }, maxDrainMs: 1 }, 10_000, 1000)).toBe(25_000);
  });

  it.each([
    [{ size: '1ZB' }, /backlog\.size: expected a size such as "512MB"/],
    [{ size: '1GB', messages: 10 }, /backlog: expected exactly one of backlog\.size and backlog\.messages/],
    [{}, /backlog: expected exactly one of/],
    [{ messages: 1.5 }, /backlog\.messages: expected a whole number of messages/],
    [{ size: '1GB', maxDrain: '10ms' }, /backlog\.maxDrain: expected a duration such as "30s" or "2m", at least 1 s/],
    [{ size: '1GB', drain: '10s' }, /backlog\.drain: expected one of the fields size, messages, maxDrain, maxBuild/],
    ['1GB', /backlog: expected a mapping/],
  ])('%j is refused with the field named', (raw, pattern) => {
    expect(() => backlogPlan('f.yaml', raw)).toThrow(pattern);
  });

  it('the old closed-loop probe: field is refused, naming what replaced it', () => {
    expect(() => validateScenario({ rate: '50%', probe: '5s' }, 'l.yaml', ['nats'])).toThrow(/l\.yaml: probe: expected nothing: "N%" rates are fractions of the maximum sustainable rate, searched in open loop/);
  });

  it('a duration beside a backlog is refused: the window is the build and the drain', () => {
    expect(() => validateScenario({ rate: 1000, backlog: { size: '1MB' }, duration: '10s' }, 'b.yaml', ['nats'])).toThrow(/b\.yaml: duration: expected no duration with backlog/);
  });
});

describe('backlog: the drain verdict', () => {
  const phases = (o: Partial<BacklogPhases>): BacklogPhases => ({
    target: { messages: 10_000, bytes: 5_120_000 },
    messageSize: 512,
    baselineMessages: 10,
    buildNs: 1e9,
    built: true,
    reachedMessages: 10_000,
    drainPhaseNs: 2e9,
    drained: true,
    caughtUpAt: 100,
    sentInDrain: 20_000,
    receivedInDrain: 30_000,
    remainingMessages: 50,
    maxBuildMs: 7000,
    maxDrainMs: 60_000,
    ...o,
  });

  it('caught up is the larger of twice the baseline and 1% of the target', () => {
    expect(caughtUpLevel(10, 10_000)).toBe(100);
    expect(caughtUpLevel(500, 10_000)).toBe(1000);
  });

  it('a drain that caught up: rates per second of the drain phase, no problem', () => {
    const { result, problems } = judgeBacklog(phases({}));
    expect(problems).toEqual([]);
    expect(result).toMatchObject({ drainMs: 2000, drainPerSec: 15_000, producePerSec: 10_000, netDrainPerSec: 5000, reached: { messages: 10_000, bytes: 5_120_000 } });
    expect(result.drainMBPerSec).toBeCloseTo(7.68, 6);
    expect(result.verdict).toBe('backlog of 10000 messages (5.1 MB) built in 1.0 s, drained in 2.0 s: consumers took 15000 msg/s while producers sent 10000 msg/s (net 5000 msg/s)');
  });

  it('a drain that never catches up says so with both rates', () => {
    const { result, problems } = judgeBacklog(phases({ drained: false, drainPhaseNs: 3e9, receivedInDrain: 29_000, sentInDrain: 30_000, remainingMessages: 11_000 }));
    expect(result.drainMs).toBeNull();
    expect(problems).toEqual(['backlog did not drain within backlog.maxDrain 60.0 s: consumers took 9667 msg/s while producers sent 10000 msg/s (the drain rate is not above the produce rate: it never catches up); 11000 of 10000 messages still queued']);
  });

  it('a slow but shrinking drain gives the time it would still need; a backlog not built is named', () => {
    const { problems } = judgeBacklog(phases({ built: false, reachedMessages: 4000, drained: false, drainPhaseNs: 1e9, receivedInDrain: 11_000, sentInDrain: 10_000, remainingMessages: 3100 }));
    expect(problems[0]).toMatch(/^backlog not built: it reached 4000 of 10000 messages within backlog\.maxBuild 7\.0 s/);
    expect(problems[1]).toMatch(/at the net 1000 msg\/s it would need ~3\.0 s more\); 3100 of 4000 messages still queued$/);
  });
});
