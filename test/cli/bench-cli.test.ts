import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RESULT_SCHEMA, type RunResult } from '../../src/core/result.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

function bench(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/bench.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmpOut = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-cli-'));

describe('bench CLI', () => {
  it('--help lists the scenarios, systems and flags', () => {
    const r = bench(['--help']);
    expect(r.code).toBe(0);
    for (const word of ['tps', 'latency', 'soak', 'ringbuffer', '--scenario', '--duration', '--rate', '--json']) expect(r.stdout).toContain(word);
  });

  it.each([
    [['--scenario', 'nope'], /unknown scenario "nope"; valid: .*tps/],
    [['--scenario', 'tps', '--bogus'], /unknown flag --bogus; valid flags:/],
    [['--scenario', 'tps', '--systems', 'kafka'], /unknown system "kafka"; valid: ringbuffer/],
    [['--scenario', 'tps', '--rate', 'fast'], /--rate fast: expected/],
    [['--scenario', 'tps', '--duration', '-3s'], /--duration -3s: expected a duration/],
    [['--scenario', 'tps', '--systems', 'ringbuffer', '--set', 'ringbuffer.padding=maybe'], /ringbuffer.*padding/],
  ])('bad input %j: one line, exit 2, nothing written', (args, pattern) => {
    const out = tmpOut();
    const r = bench([...args, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(fs.readdirSync(out)).toEqual([]);
  });

  it('a bad scenario file names the file and the field', () => {
    const out = tmpOut();
    const file = path.join(out, 'bad.yaml');
    fs.writeFileSync(file, 'systems: [ringbuffer]\nproducers: many\n');
    const r = bench(['--scenario', file, '--out', path.join(out, 'results')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad.yaml: producers: expected an integer from 1 to 64, got "many"/);
    expect(fs.existsSync(path.join(out, 'results'))).toBe(false);
  });

  it('runs the tps scenario on the ring buffer end to end and writes the result files', () => {
    const out = tmpOut();
    const r = bench(['--scenario', 'tps', '--systems', 'ringbuffer', '--duration', '1s', '--warmup', '300ms', '--out', out, '--json']);
    expect(r.stderr).not.toMatch(/FAILED|DELIVERY ERRORS/);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as RunResult;
    expect(doc.schema).toBe(RESULT_SCHEMA);
    expect(doc.scenario).toBe('tps');
    const ring = doc.systems[0]!;
    expect(ring.system).toBe('ringbuffer');
    expect(ring.status).toBe('ok');
    expect(ring.throughput.msgsPerSec).toBeGreaterThan(0);
    expect(ring.delivery.lost + ring.delivery.duplicated + ring.delivery.outOfOrder).toBe(0);
    expect(ring.delivery.received).toBe(ring.delivery.sent);
    expect(ring.latency.e2e.count).toBeGreaterThan(0);
    for (const k of ['p50', 'p90', 'p99', 'p999', 'p9999', 'max'] as const) expect(ring.latency.e2e[k]).toBeGreaterThan(0);
    expect(doc.environment.cores).toBeGreaterThan(0);
    expect(ring.peakRssBytes).toBeGreaterThan(0);
    const files = fs.readdirSync(out);
    const json = files.find((f) => f.endsWith('-tps.json'))!;
    expect(json).toBeDefined();
    expect(JSON.parse(fs.readFileSync(path.join(out, json), 'utf8'))).toEqual(doc);
    expect(files.some((f) => f.endsWith('.ringbuffer.hgrm'))).toBe(true);
    // the table went to stderr because stdout carries the JSON
    expect(r.stderr).toMatch(/system\s+run\s+msg\/s\s+MB\/s\s+p50/);
  });

  it('a system that fails is reported with its error, exit 1, and the result file says so', () => {
    const out = tmpOut();
    const r = bench(['--scenario', 'tps', '--systems', 'ringbuffer', '--producers', '1', '--consumers', '2', '--duration', '500ms', '--warmup', '0', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ringbuffer: FAILED: .*consumers/);
    const json = fs.readdirSync(out).find((f) => f.endsWith('.json'))!;
    const doc = JSON.parse(fs.readFileSync(path.join(out, json), 'utf8')) as RunResult;
    expect(doc.ok).toBe(false);
    expect(doc.systems[0]!.status).toBe('failed');
  });
});
