/**
 * The console summary says what a latency means in each mode, shows the send delay of a
 * fixed-rate run, and says so in plain words when the producers could not keep their
 * schedule.
 */
import { describe, expect, it } from 'vitest';
import { summaryTable } from '../../src/report/render/console.ts';
import { runResult, systemResult } from './fixtures.ts';

const stream = { isTTY: false } as NodeJS.WriteStream;

describe('console summary and the send schedule', () => {
  it('says a closed-loop latency counts from the batch hand-over, not an intended time', () => {
    const r = runResult([systemResult({ system: 'ringbuffer' })]);
    const text = summaryTable(r, stream);
    expect(text).not.toMatch(/from intended send time/);
    expect(text).toMatch(/from the batch's hand-over to the system \(closed loop: includes queueing behind the in-flight window\)/);
  });

  it('counts a fixed-rate latency from the intended send time and flags a schedule not kept', () => {
    const s = systemResult({ system: 'nats', ratePerSec: 50_000 });
    s.latency.sendDelay = { count: 10, min: 1, mean: 900, p50: 800, p90: 1500, p99: 2500, p999: 2600, p9999: 2600, max: 2600 };
    s.schedule = { intendedPerSec: 50_000, achievedPerSec: 41_234, intended: 650_000, sent: 650_000, unsent: 0, sendDelayP99Us: 2_500_000, kept: false, rule: 'r' };
    const r = runResult([s]);
    r.parameters.mode = 'open';
    const text = summaryTable(r, stream);
    expect(text).toMatch(/latency end-to-end from intended send time/);
    expect(text).toMatch(/nats: send delay \(intended→handed over\) p50 800µs, p99 2.50ms, max 2.60ms/);
    expect(text).toMatch(/nats: could not sustain 50.0k msg\/s: achieved 41.2k msg\/s, send delay p99 2.50s/);
    expect(text).not.toMatch(/never sent/);
  });

  it('says both meanings when an open-loop scenario also has rate=max runs', () => {
    const closed = systemResult({ system: 'nats' });
    closed.config.ratePerSec = 'max';
    const r = runResult([closed, systemResult({ system: 'nats' })]);
    r.parameters.mode = 'open';
    expect(summaryTable(r, stream)).toMatch(/from intended send time at a fixed rate, and in rate=max runs from the batch's hand-over to the system/);
  });

  it('counts what an aborted fixed-rate run left unsent', () => {
    const s = systemResult({ system: 'nats' });
    s.schedule = { intendedPerSec: 1000, achievedPerSec: 1000, intended: 13_000, sent: 9000, unsent: 4000, sendDelayP99Us: 100, kept: false, rule: 'r' };
    expect(summaryTable(runResult([s]), stream)).toMatch(/nats: 4000 of 13000 intended messages never sent \(run aborted\)/);
  });
});
