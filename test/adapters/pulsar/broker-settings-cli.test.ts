/** `pulsar.broker` refusals through the bench CLI: one line, exit 2, before any broker starts. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-pulsar-broker-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function bench(broker: string, brokers: string): { stderr: string; status: number | null } {
  const file = path.join(dir, 'settings.yaml');
  fs.writeFileSync(file, ['description: pulsar.broker refusals', 'systems: [pulsar]', 'rate: max', 'duration: 1s', 'messageSize: 512', 'pulsar:', `  broker: ${broker}`, ''].join('\n'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/bench.ts', '--scenario', file, '--brokers', brokers, '--out', path.join(dir, 'out')], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
  return { stderr: r.stderr, status: r.status };
}

describe('pulsar.broker on the command line', () => {
  it.each([
    ['{ journalSyncData: false }', 'native', /settings\.yaml: pulsar\.broker\.journalSyncData: expected no journalSyncData here \(busbench sets it; use pulsar\.journalSync\), got false$/],
    ['{ journalWriteBufferSizeKB: 256 }', 'compose', /settings\.yaml: pulsar\.broker: expected nothing with --brokers compose .*got \{"journalWriteBufferSizeKB":256\}$/],
  ])('%s with --brokers %s: one line, exit 2, nothing written', (broker, brokers, pattern) => {
    const r = bench(broker, brokers);
    expect(r.stderr.trim()).toMatch(pattern);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.status).toBe(2);
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
  });
});
