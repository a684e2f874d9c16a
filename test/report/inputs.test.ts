import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.ts';
import { expandGlob, loadResults, newestResult, resolveResultPaths } from '../../src/report/io/inputs.ts';
import { runResult, systemResult, tmpDir, writeResult } from './fixtures.ts';

function tree(): string {
  const dir = tmpDir();
  const r = runResult([systemResult({ system: 'ringbuffer', samples: 100 })]);
  fs.mkdirSync(path.join(dir, 'baselines'));
  fs.mkdirSync(path.join(dir, '2026-01-01T000000Z-tps')); // a run folder, not a result
  writeResult(dir, '2026-01-01T000000Z-tps.json', r);
  writeResult(dir, '2026-01-02T000000Z-tps.json', r);
  fs.writeFileSync(path.join(dir, '2026-01-02T000000Z-tps.ringbuffer.hgrm'), 'not json');
  writeResult(path.join(dir, 'baselines'), 'tps-1.json', r);
  writeResult(path.join(dir, 'baselines'), 'tps-2.json', r);
  fs.writeFileSync(path.join(dir, '.hidden.json'), '{}');
  return dir;
}

describe('which files an argument names', () => {
  it('a directory: its *.json files, not its subfolders or hidden files', () => {
    const dir = tree();
    expect(resolveResultPaths(dir).map((f) => path.basename(f))).toEqual(['2026-01-01T000000Z-tps.json', '2026-01-02T000000Z-tps.json']);
  });

  it('globs with *, ? and **, sorted', () => {
    const dir = tree();
    expect(expandGlob(path.join(dir, 'baselines', 'tps-?.json')).map((f) => path.basename(f))).toEqual(['tps-1.json', 'tps-2.json']);
    expect(expandGlob(path.join(dir, '**', '*.json')).map((f) => path.relative(dir, f))).toEqual([
      '2026-01-01T000000Z-tps.json',
      '2026-01-02T000000Z-tps.json',
      path.join('baselines', 'tps-1.json'),
      path.join('baselines', 'tps-2.json'),
    ]);
    expect(resolveResultPaths(path.join(dir, '*-tps.*')).map((f) => path.basename(f))).toEqual(['2026-01-01T000000Z-tps.json', '2026-01-02T000000Z-tps.json']);
  });

  it('bad arguments are usage errors naming the argument', () => {
    const dir = tree();
    expect(() => resolveResultPaths(path.join(dir, 'nope.json'))).toThrow(UsageError);
    expect(() => resolveResultPaths(path.join(dir, 'nope-*.json'))).toThrow(/no result files match/);
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, '{"schema":"other"}');
    expect(() => loadResults([bad])).toThrow(UsageError);
    expect(() => loadResults([bad])).toThrow(/bad.json: schema "other" is not busbench\/result@1/);
  });

  it('reads each file once however often it is named, and finds the newest', () => {
    const dir = tree();
    expect(loadResults([dir, path.join(dir, '*.json')])).toHaveLength(2);
    expect(path.basename(newestResult(dir)!)).toBe('2026-01-02T000000Z-tps.json');
  });
});
