/**
 * The ring buffer's server process (`process: child`) is a broker process of the run:
 * its CPU time and peak memory are in the result beside busbench's own.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adapter } from '../../src/adapters/ringbuffer/index.ts';
import { runOnce } from '../../src/harness/runner.ts';
import { removeRunDirs, runSpec } from '../fixtures/run-spec.ts';

afterAll(removeRunDirs);

describe('ring server process resources', { timeout: 60_000 }, () => {
  it('measures the ring server child process', async () => {
    const r = await runOnce(runSpec(adapter, { process: 'child' }, { load: { durationMs: 1500 } }));
    expect(r.status).toBe('ok');
    const brokers = r.resources!.brokers as Exclude<NonNullable<typeof r.resources>['brokers'], 'not measured'>;
    expect(brokers.map((b) => b.name)).toEqual(['ring server']);
    expect(brokers[0]!.pid).toBe((r.config.server as { pid: number }).pid);
    expect(brokers[0]!.cpuSec).toBeGreaterThan(0);
    expect(brokers[0]!.peakRssBytes).toBeGreaterThan(0);
    expect(r.peakRssBytes).toBe(r.resources!.busbench.peakRssBytes + brokers[0]!.peakRssBytes);
  });

  it('has no separate process in-process: its cost is busbench’s', async () => {
    const r = await runOnce(runSpec(adapter, { process: 'inline' }, { load: { durationMs: 1000 } }));
    expect(r.resources!.brokers).toEqual([]);
    expect(r.peakRssBytes).toBe(r.resources!.busbench.peakRssBytes);
    expect(r.resources!.cpuSecPerMillion).toBeGreaterThan(0);
  });
});
