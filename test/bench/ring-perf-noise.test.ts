import { constants, PerformanceObserver } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { monoNs } from '../../src/core/clock.ts';
import { noiseP99FloorUs, pairP99FloorUs, spinGaps, type Noise } from '../../bench/ring-perf-figures.ts';

const noise = (gapsUs: number[], seconds = 1): Noise => ({ seconds, gaps: gapsUs.map((g) => g * 1e3), gcCount: 0, gcMs: 0, gcGaps: 0, steal: 0 });

describe('ring-perf noise floor', () => {
  it('adds the shares of two threads measured together, and matches the one-thread formula for identical threads', () => {
    // 1 s, gaps of 1 ms: each 1 ms gap delays 0.1% of the messages by more than (1 ms - x)
    const a = noise(Array(6).fill(1000));
    const b = noise(Array(4).fill(1000));
    // together 10 gaps: 10 * (1000 - x) µs <= 10,000 µs at x = 0
    expect(pairP99FloorUs([a, b])).toBe(0);
    const c = noise(Array(20).fill(1000));
    // 20 * (1000 - x) <= 10,000 from x = 500
    expect(pairP99FloorUs([c])).toBe(500);
    expect(pairP99FloorUs([c, c])).toBe(noiseP99FloorUs(c, 2));
  });

  it('spins without allocating, so its own collections do not show as noise', async () => {
    const out = new Float64Array(2000);
    spinGaps(monoNs() + 300e6, out); // V8 optimizes the loop
    // scavenges only: garbage from the loop is young; a major collection can still finish
    // during the loop (from a test file before this one) without the loop allocating
    let gcs = 0;
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs++;
    });
    obs.observe({ entryTypes: ['gc'] });
    // a loop-carried double in a local was boxed on every clock read: 6 scavenges in this second
    spinGaps(monoNs() + 1000e6, out);
    await new Promise((r) => setTimeout(r, 50));
    obs.disconnect();
    expect(gcs).toBeLessThanOrEqual(1);
  });
});
