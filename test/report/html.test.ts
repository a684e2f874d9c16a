import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderReport } from '../../src/report/render/html.ts';
import { loaded, runResult, systemResult, tmpDir } from './fixtures.ts';

const EVIL = '<img src=x onerror=alert(1)>&"\'';

const inputs = [
  loaded(
    runResult([
      systemResult({ system: 'ringbuffer', seed: 1, p50Us: 30 }),
      ...[0, 1, 2].map((r) => systemResult({ system: 'nats', cell: 'storage=file', seed: 10 + r, repetition: r, p50Us: 400, durable: true })),
      systemResult({ system: 'nats', cell: `storage=${EVIL}`, seed: 20, p50Us: 200 }),
    ]),
    'results/2026-01-01T000000Z-tps.json',
  ),
  loaded(
    runResult(
      [
        systemResult({
          system: 'pulsar',
          seed: 30,
          p50Us: 2000,
          durable: true,
          lost: 3,
          durability: { fault: 'kill -9 of the broker', injected: true, ackedLost: 2, promiseKept: false, rtoMs: 840.5 },
        }),
        systemResult({ system: 'nats', seed: 31, status: 'failed', error: 'broker did not start' }),
      ],
      { scenario: 'persistence', fault: { atMs: 2000, downtimeMs: 1000 } },
    ),
    'results/2026-01-01T000100Z-persistence.json',
  ),
];

function unescape(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

/** chart id → the data-series labels of its <path class="series"> elements, in order */
function seriesByChart(html: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of html.matchAll(/<svg\b[^>]*\bdata-chart="([^"]+)"[^>]*>([\s\S]*?)<\/svg>/g)) {
    const labels = [...m[2]!.matchAll(/<path\b[^>]*\bclass="series"[^>]*\bdata-series="([^"]*)"/g)].map((p) => unescape(p[1]!));
    out.set(m[1]!, labels);
  }
  return out;
}

const ROWS = ['tps: ringbuffer (#1)', 'tps: nats [storage=file] (#1)', `tps: nats [storage=${EVIL}] (#1)`, 'persistence: pulsar (#2)'];

describe('HTML report', () => {
  const html = renderReport(inputs, { generatedAt: new Date('2026-01-02T00:00:00Z') });

  it('is one self-contained page: no script, no external resource', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    for (const url of html.match(/https?:\/\/[^"'\s<]+/g) ?? []) expect(url).toBe('http://www.w3.org/2000/svg');
  });

  it('escapes text from result files', () => {
    expect(html).not.toContain(EVIL);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;&amp;&quot;&#39;');
  });

  it('draws one line per system/config and file in both percentile plots, with the right labels', () => {
    const charts = seriesByChart(html);
    expect(charts.get('e2e-percentiles')).toEqual(ROWS);
    expect(charts.get('publish-percentiles')).toEqual(ROWS);
  });

  it('puts the percentile axis at 0%, 90%, 99%, 99.9% …', () => {
    const svg = /<svg\b[^>]*data-chart="e2e-percentiles"[\s\S]*?<\/svg>/.exec(html)![0];
    const ticks = [...svg.matchAll(/<text class="tick"[^>]*text-anchor="middle">([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(ticks.slice(0, 6)).toEqual(['0%', '90%', '99%', '99.9%', '99.99%', '99.999%']);
  });

  it('draws throughput and p50/p99 over time per run, one pair of charts per file, and shades the injected fault', () => {
    const charts = seriesByChart(html);
    const tps = ['tps: ringbuffer (#1)', 'tps: nats [storage=file] (#1) #1', 'tps: nats [storage=file] (#1) #2', 'tps: nats [storage=file] (#1) #3', `tps: nats [storage=${EVIL}] (#1)`];
    expect(charts.get('throughput-over-time-1')).toEqual(tps);
    expect(charts.get('latency-over-time-1')).toEqual(tps.flatMap((r) => [`${r} p99`, `${r} p50`]));
    expect(charts.get('throughput-over-time-2')).toEqual(['persistence: pulsar (#2)']);
    const persistence = /<svg\b[^>]*data-chart="throughput-over-time-2"[\s\S]*?<\/svg>/.exec(html)![0];
    expect(persistence).toMatch(/<g class="band">[\s\S]*?fault at 2s, 1s down/);
    const tpsChart = /<svg\b[^>]*data-chart="throughput-over-time-1"[\s\S]*?<\/svg>/.exec(html)![0];
    expect(tpsChart).not.toMatch(/class="band"/);
  });

  it('draws throughput on a log axis when systems differ by more than 20×, so a broker is not a flat line under a ring buffer', () => {
    const ring = systemResult({ system: 'ringbuffer', seed: 1, msgsPerSec: 6_000_000 });
    const nats = systemResult({ system: 'nats', seed: 2, msgsPerSec: 100_000 });
    nats.intervals[1] = { ...nats.intervals[1]!, received: 0, msgsPerSec: 0 }; // a fault emptied one interval
    const page = renderReport([loaded(runResult([ring, nats]))]);
    const svg = /<svg\b[^>]*data-chart="throughput-over-time"[\s\S]*?<\/svg>/.exec(page)![0];
    expect(svg).toMatch(/msg\/s, log scale/);
    const ys = (name: string) => [.../[ML]\s*[\d.]+[ ,]([\d.]+)/g[Symbol.matchAll](new RegExp(`data-series="${name}" d="([^"]*)"`).exec(svg)![1]!)].map((m) => Number(m[1]));
    const natsY = ys('nats');
    const ringY = ys('ringbuffer');
    // On a linear axis to 6.3M, 100k msg/s is 1.6% of the height: all but indistinguishable from 0.
    const spread = Math.max(...natsY) - Math.min(...natsY);
    expect(Math.min(...ringY)).toBeLessThan(Math.min(...natsY) - 50); // ring well above nats (svg y grows downward)
    expect(spread).toBeGreaterThan(50); // the emptied interval visibly drops to the floor
    // One system alone, with an interval at 0, keeps a linear axis.
    const alone = renderReport([loaded(runResult([nats]))]);
    expect(/<svg\b[^>]*data-chart="throughput-over-time"[\s\S]*?<\/svg>/.exec(alone)![0]).not.toMatch(/log scale/);
  });

  it('charts the consumer backlog over time and says when consumers fell behind', () => {
    const nats = systemResult({ system: 'nats', seed: 3, msgsPerSec: 10_000 });
    nats.intervals = nats.intervals.map((iv, i) => ({ ...iv, sent: 10_000, backlog: 1000 + i * 5000 }));
    const page = renderReport([loaded(runResult([nats]))]);
    expect(seriesByChart(page).get('backlog-over-time')).toEqual(['nats']);
    expect(page).toMatch(/nats: consumers fell behind: backlog grew from 1000 to 21000 messages over the measured phase \(\+5\.0k msg\/s\)/);
  });

  it('charts latency against offered rate for a run with a schedule, and not for a fixed rate', () => {
    const ramp = systemResult({ system: 'nats', seed: 4, intervals: 4 });
    ramp.intervals = ramp.intervals.map((iv, i) => ({ ...iv, intendedPerSec: 1000 * (4 - i), p99: 100 * (4 - i) }));
    const steps = systemResult({ system: 'pulsar', seed: 6, intervals: 4 });
    steps.intervals = steps.intervals.map((iv, i) => ({ ...iv, intendedPerSec: i < 2 ? 2000 : 8000 }));
    steps.schedule = { intendedPerSec: 5000, achievedPerSec: 5000, intended: 10, sent: 10, unsent: 0, sendDelayP99Us: 1, kept: true, rule: '', steps: [
      { fromMs: 0, toMs: 2000, offeredPerSec: 2000, achievedPerSec: 2000, receivedPerSec: 2000, count: 4000, p50: 50, p99: 90 },
      { fromMs: 2000, toMs: 4000, offeredPerSec: 8000, achievedPerSec: 8000, receivedPerSec: 7900, count: 15800, p50: 70, p99: 400 },
    ] };
    const fixed = systemResult({ system: 'ringbuffer', seed: 7 });
    fixed.intervals = fixed.intervals.map((iv) => ({ ...iv, intendedPerSec: 5000 }));
    const page = renderReport([loaded(runResult([ramp, steps, fixed]))]);
    expect(seriesByChart(page).get('latency-vs-offered')).toEqual(['nats p99', 'nats p50', 'pulsar p99', 'pulsar p50']);
    const svg = /<svg\b[^>]*data-chart="latency-vs-offered"[\s\S]*?<\/svg>/.exec(page)![0];
    // one point per step for the steps run: a line of two points
    expect(/data-series="pulsar p99" d="([^"]*)"/.exec(svg)![1]!.match(/[ML]/g)).toHaveLength(2);
    // per interval for the ramp, ordered by offered rate
    expect(/data-series="nats p99" d="([^"]*)"/.exec(svg)![1]!.match(/[ML]/g)).toHaveLength(4);
    expect(seriesByChart(renderReport([loaded(runResult([fixed]))])).has('latency-vs-offered')).toBe(false);
  });

  it('leaves a gap, not a zero, where an interval received nothing', () => {
    const sys = systemResult({ system: 'nats', seed: 5 });
    sys.intervals[2] = { ...sys.intervals[2]!, received: 0, msgsPerSec: 0, p50: 0, p99: 0, max: 0 };
    const page = renderReport([loaded(runResult([sys]))]);
    const svg = /<svg\b[^>]*data-chart="latency-over-time"[\s\S]*?<\/svg>/.exec(page)![0];
    const d = /data-series="nats p99" d="([^"]*)"/.exec(svg)![1]!;
    expect(d.match(/M/g)).toHaveLength(2); // two subpaths around the gap
  });

  it('has one comparison row per system/config per file, with durability, exactly-once and delivery', () => {
    const table = /<table class="comparison">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)![1]!;
    const rows = [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => m[1]!);
    expect(rows).toHaveLength(5);
    const pulsar = rows.find((r) => r.includes('pulsar'))!;
    expect(pulsar).toMatch(/class="text bad" title="[^"]*fault: kill -9 of the broker; acked lost 2; PROMISE BROKEN; RTO 840.5 ms[^"]*">durable to kill -9; BROKEN: acked lost 2, RTO 840.5 ms</);
    expect(pulsar).toMatch(/class="text bad" title="lost 3, [^"]*">3 · 0 · 0</);
    expect(pulsar).toMatch(/no \(at-least-once\)/);
    const nats = rows.find((r) => r.includes('storage=file'))!;
    expect(nats).toMatch(/<td class="num">3<\/td>/); // three runs
    expect(nats).toMatch(/<span class="range">/); // median with range
    const failed = rows.find((r) => r.includes('persistence: nats'))!;
    expect(failed).toMatch(/class="text bad" title="FAILED: broker did not start">FAILED</);
    expect(html).toMatch(/<ul class="notes"><li><span class="bad">persistence: nats \(#2\): FAILED: broker did not start/);
  });

  it('shows the parameters and environment of every file', () => {
    expect(html).toMatch(/#1 2026-01-01T000000Z-tps.json: tps/);
    expect(html).toMatch(/#2 2026-01-01T000100Z-persistence.json: persistence/);
    expect(html).toMatch(/<dt>messageSize<\/dt><dd>512<\/dd>/);
    expect(html).toMatch(/Test CPU × 2 cores/);
  });
});

function findChromium(): string | undefined {
  for (const bin of ['chromium', 'chromium-browser', 'google-chrome']) {
    const r = spawnSync('which', [bin], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return undefined;
}

const chromium = findChromium();
// CI must render the report: there a missing browser fails the test instead of skipping it.
const chromiumRequired = process.env.CI === 'true';
const chromiumNote = chromium ? '' : chromiumRequired ? ' (chromium REQUIRED: CI=true)' : ' (SKIPPED: chromium is not installed; apt-get install -y chromium)';

describe('HTML report in a real browser', () => {
  it.skipIf(!chromium && !chromiumRequired)(`renders every series as SVG paths in headless Chromium${chromiumNote}`, () => {
    if (!chromium) throw new Error('CI=true but none of chromium, chromium-browser, google-chrome is on PATH: install chromium (apt-get install -y chromium)');
    const dir = tmpDir();
    const file = path.join(dir, 'report.html');
    fs.writeFileSync(file, renderReport(inputs));
    const r = spawnSync(
      chromium,
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${path.join(dir, 'profile')}`, '--dump-dom', `file://${file}`],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status).toBe(0);
    const charts = seriesByChart(r.stdout);
    expect(charts.get('e2e-percentiles')).toEqual(ROWS);
    expect(charts.get('publish-percentiles')).toEqual(ROWS);
    expect(charts.get('throughput-over-time-1')).toHaveLength(5);
    expect(charts.get('latency-over-time-1')).toHaveLength(10);
    expect(charts.get('throughput-over-time-2')).toHaveLength(1);
    // the escaped label stays text in the DOM: no element was injected
    expect(r.stdout).not.toContain('<img');
  });
});

describe('HTML report: the load generator and its cost', () => {
  it('shows the send delay and a fixed-rate schedule not kept, and the CPU cost per million messages', () => {
    const kept = systemResult({ system: 'nats', label: 'kept', ratePerSec: 5000 });
    kept.schedule = { intendedPerSec: 5000, achievedPerSec: 5000, intended: 90000, sent: 90000, unsent: 0, sendDelayP99Us: 1650, kept: true, rule: 'test' };
    kept.resources = { busbench: { cpuSec: 1, peakRssBytes: 1 }, brokers: 'not measured', cpuSecPerMillion: 111.7 };
    const behind = systemResult({ system: 'pulsar', label: 'behind', ratePerSec: 50000 });
    behind.schedule = { intendedPerSec: 50000, achievedPerSec: 31200, intended: 900000, sent: 900000, unsent: 0, sendDelayP99Us: 2.5e6, kept: false, rule: 'test' };
    const html = renderReport([loaded(runResult([kept, behind]))]);
    expect(html).toContain('<th>send delay p99</th>');
    expect(html).toContain('<th>CPU s/M msg</th>');
    expect(html).toContain('1.65ms');
    expect(html).toContain('111.7');
    expect(html).toContain('pulsar @ 50000/s: could not sustain 50.0k msg/s: achieved 31.2k msg/s, send delay p99 2.50s</span></li>');
    expect(html).toMatch(/class="num bad"[^>]*>2\.50s<span class="range">schedule not kept/);
  });
});
