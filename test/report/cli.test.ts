import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runResult, systemResult, tmpDir, writeResult } from './fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

function cli(script: 'report' | 'compare' | 'gate', args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${script}.ts`, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * baseline/, same/ (same code) and slow/ (2x slower), five files each, two systems: five
 * runs a side let a 2-system × 2-metric gate reach Holm's first step (p ≤ 0.05/4) and
 * compare's two-sided test reach 0.05.
 */
function fixtures(): { dir: string; base: string; same: string; slow: string } {
  const dir = tmpDir();
  const sets = { base: [1, 2, 3, 4, 5], same: [11, 12, 13, 14, 15], slow: [21, 22, 23, 24, 25] } as const;
  for (const [name, seeds] of Object.entries(sets)) {
    fs.mkdirSync(path.join(dir, name));
    for (const seed of seeds) {
      const scale = name === 'slow' ? 2 : 1;
      const r = runResult([
        systemResult({ system: 'ringbuffer', seed, p50Us: 40, scale, samples: 4000 }),
        systemResult({ system: 'nats', seed: seed + 100, p50Us: 400, scale, samples: 4000, msgsPerSec: 50_000 / scale }),
      ]);
      writeResult(path.join(dir, name), `2026-01-${String(seed).padStart(2, '0')}T000000Z-tps.json`, r);
    }
  }
  return { dir, base: path.join(dir, 'base'), same: path.join(dir, 'same'), slow: path.join(dir, 'slow') };
}

const oneLine = (s: string): void => expect(s.trim().split('\n')).toHaveLength(1);

describe('gate CLI', () => {
  const f = fixtures();

  it('passes (exit 0) on repeated runs of the same code', () => {
    const r = cli('gate', ['--baseline', f.base, '--current', `${f.same}/*.json`, '--metric', 'p99', '--max-regression', '10%']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/gate: pass \(2 check\(s\)\)/);
  });

  it('fails (exit 1) on a 2x slowdown and says what moved and by how much', () => {
    const r = cli('gate', ['--baseline', f.base, '--current', f.slow, '--metric', 'p99,throughput', '--max-regression', '10%']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ringbuffer\s+p99\s+.*\(5\)\s+.*\(5\)\s+\+\d{2,3}\.\d%\s+0\.004\s+0\.016\s+REGRESSED/);
    expect(r.stdout).toMatch(/nats\s+throughput\s+50\.0k msg\/s \(5\)\s+25\.0k msg\/s \(5\)\s+\+50\.0%/);
    expect(r.stdout).toMatch(/Holm–Bonferroni over 4 tests \(family-wise false-alarm rate ≤ 0\.05\)/);
    expect(r.stdout).toMatch(/^gate: FAIL: ringbuffer p99 .* → .* \(\+\d+\.\d% worse\)/m);
    expect(r.stdout).not.toContain('\u001b['); // NO_COLOR, and not a TTY
  });

  it('--json gives the findings to machines, with the same exit code', () => {
    const r = cli('gate', ['--baseline', f.base, '--current', f.slow, '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { failed: boolean; findings: Array<{ status: string; metric: string }> };
    expect(doc.failed).toBe(true);
    expect(doc.findings.every((x) => x.metric === 'p99' && x.status === 'fail')).toBe(true);
  });

  it.each([
    [['--baseline', 'B', '--metric', 'p98'], /unknown metric "p98"; valid: throughput mbps p50 p90 p99 p999 p9999 max mean publish-p50/],
    [['--baseline', 'B', '--max-regression', 'ten'], /--max-regression ten: expected a percentage/],
    [['--baseline', 'B', '--max-regression', '10'], /--max-regression 10: expected a percentage/],
    [['--baseline', 'B', '--alpha', '5'], /--alpha 5: expected a number between 0 and 1/],
    [['--metric', 'p99'], /--baseline <file\|dir\|glob> is required/],
    [['--baseline', 'B', '--bogus'], /unknown flag --bogus; valid flags: --baseline --current/],
    [['--baseline', '/nonexistent/x.json'], /\/nonexistent\/x.json: no such file or directory/],
    [['--baseline', 'B', '--systems', 'kafka'], /--systems: "kafka" is not in the baseline; present: ringbuffer, nats/],
  ])('bad input %j: one line, exit 2', (args, pattern) => {
    const r = cli('gate', [...args.map((a) => (a === 'B' ? f.base : a)), '--current', f.same]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(pattern);
    oneLine(r.stderr);
  });
});

describe('compare CLI', () => {
  const f = fixtures();

  it('prints an aligned table per system and metric with a verdict', () => {
    const r = cli('compare', [f.base, f.slow]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const header = lines.findIndex((l) => /^system\s+metric\s+a\s+b\s+change\s+p\s+verdict/.test(l));
    expect(header).toBeGreaterThan(-1);
    const table = lines.slice(header, header + 12);
    const verdictCol = table[0]!.indexOf('verdict');
    for (const row of table.slice(2)) expect(row.slice(verdictCol)).toMatch(/^(significant, (worse|better)|within noise)/);
    expect(r.stdout).toMatch(/ringbuffer\s+p99\s+.*\s0\.008\s+significant, worse/);
    expect(r.stdout).toMatch(/^method: two-sided exact Mann–Whitney U test on the per-run values at alpha 0\.05: on unchanged code at most 5% of rows are called significant/m);
    expect(r.stdout).toMatch(/noise floor/);
  });

  it('calls repeated runs of the same code within noise', () => {
    const r = cli('compare', [f.base, f.same, '--json']);
    const doc = JSON.parse(r.stdout) as { rows: Array<{ verdict: string }> };
    expect(doc.rows).toHaveLength(10);
    expect(doc.rows.every((x) => x.verdict === 'within noise')).toBe(true);
  });

  it('one file per side: "not enough runs", and how many would do', () => {
    const r = cli('compare', [path.join(f.base, '2026-01-01T000000Z-tps.json'), path.join(f.slow, '2026-01-21T000000Z-tps.json')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ringbuffer\s+p99\s+.*\s–\s+not enough runs/);
    expect(r.stdout).not.toMatch(/significant, /);
    expect(r.stdout).toMatch(/use at least 4 runs per side/);
  });

  it('needs exactly two arguments, and knows its metrics', () => {
    const one = cli('compare', [f.base]);
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(/expected two results to compare/);
    const bad = cli('compare', [f.base, f.same, '--metric', 'p42']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown metric "p42"; valid: throughput/);
    oneLine(bad.stderr);
  });
});

describe('report CLI', () => {
  const f = fixtures();

  it('writes one HTML file, quietly when not on a terminal', () => {
    const out = path.join(f.dir, 'out', 'report.html');
    const r = cli('report', [`${f.base}/*.json`, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
    const html = fs.readFileSync(out, 'utf8');
    expect(html).toMatch(/<svg[^>]*data-chart="e2e-percentiles"/);
  });

  it('writes into a folder given as --out, as bench --out does, and says when it replaces a file', () => {
    const dir = path.join(f.dir, 'run-folder');
    fs.mkdirSync(dir);
    const r = cli('report', [`${f.base}/*.json`, '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'report.html'), 'utf8')).toMatch(/<svg[^>]*data-chart="e2e-percentiles"/);
    const again = cli('report', [`${f.base}/*.json`, '--out', dir]);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe(`report: replaced ${path.join(dir, 'report.html')} (html, 5 result file(s))\n`);
    const fresh = path.join(f.dir, 'not-yet') + path.sep;
    const bmf = cli('report', [f.base, '--format', 'bmf', '--out', fresh]);
    expect(bmf.code, bmf.stderr).toBe(0);
    expect(Object.keys(JSON.parse(fs.readFileSync(path.join(fresh, 'bmf.json'), 'utf8')) as object)).toContain('tps/ringbuffer');
  });

  it('writes the tracker formats to stdout or --out', () => {
    const bmf = cli('report', [f.base, '--format', 'bmf']);
    expect(bmf.code).toBe(0);
    expect(Object.keys(JSON.parse(bmf.stdout) as object)).toEqual(['tps/ringbuffer', 'tps/nats']);
    const out = path.join(f.dir, 'gab.json');
    const gab = cli('report', [f.base, '--format', 'gab', '--out', out, '--json']);
    expect(JSON.parse(gab.stdout)).toMatchObject({ out, format: 'gab' });
    const entries = JSON.parse(fs.readFileSync(out, 'utf8')) as Array<{ name: string; unit: string }>;
    expect(entries.find((e) => e.name === 'tps/ringbuffer p99')?.unit).toBe('us');
  });

  it('rejects a bad format or no input with one line and exit 2', () => {
    const bad = cli('report', [f.base, '--format', 'pdf']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--format pdf: unknown format; valid: html gab gab-throughput bmf/);
    oneLine(bad.stderr);
    const none = cli('report', []);
    expect(none.code).toBe(2);
    oneLine(none.stderr);
  });
});
