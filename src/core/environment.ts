/** The machine a run happened on, recorded in every result file. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { Environment } from './result.ts';
import { measureClockCost } from './clock.ts';

function gitCommit(): string | null {
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return null;
  }
}

export function describeEnvironment(): Environment {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    gitCommit: gitCommit(),
    hostname: os.hostname(),
    clockNsPerCall: Math.round(measureClockCost().nsPerCall * 10) / 10,
  };
}
