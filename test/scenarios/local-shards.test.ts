/**
 * --processes: an interrupt reaches each child once. A child signalled twice exits at
 * once, without deleting its stream from the broker; the first child to stop used to
 * reject its run and pass the interrupt on a second time to the others (2026-12-02 CI).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runLocalShards } from '../../src/harness/local-shards.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-local-shards-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const until = async (ok: () => boolean, ms: number): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('local shards (--processes)', () => {
  it('passes an interrupt on to each child once, also after the first child stopped', async () => {
    const aborter = new AbortController();
    const lines: string[] = [];
    const run = runLocalShards({
      count: 3,
      startAt: 'now',
      argv: ['--scenario', 'tps'],
      outDir: dir,
      log: (l) => lines.push(l),
      signal: aborter.signal,
      entry: path.resolve(import.meta.dirname, '../fixtures/shard-child.mjs'),
    });
    const started = (i: number): boolean => fs.existsSync(path.join(dir, `shard-${i}`, 'started'));
    await until(() => started(0) && started(1) && started(2), 20_000);
    aborter.abort();
    await expect(run).rejects.toThrow(/interrupted/);
    // shard 0 stopped at once; the others counted what reached them while they closed
    for (const i of [1, 2]) expect(fs.readFileSync(path.join(dir, `shard-${i}`, 'sigterms'), 'utf8'), `shard ${i}; log: ${lines.join(' | ')}`).toBe('1');
  }, 30_000);
});
