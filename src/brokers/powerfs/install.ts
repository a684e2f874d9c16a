/**
 * Builds powerfs (the Go program in ./fs) into the busbench cache, once per version of
 * its sources: <cache>/powerfs/<hash of the Go sources>/powerfs, <cache> being
 * $BUSBENCH_CACHE (default ~/.cache/busbench). An edited source gets a new folder, so a
 * stale binary is never taken for the current one. The first build needs the Go module
 * proxy (go.sum pins go-fuse and its dependencies).
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BrokerError } from '../../core/errors.ts';
import { cacheRoot } from '../nats/install.ts';

export const POWERFS_SOURCE_DIR = path.join(import.meta.dirname, 'fs');
export const GO_FUSE_VERSION = 'v2.12.1';

export interface PowerFsInstall {
  path: string;
  /** e.g. "go build src/brokers/powerfs/fs (go-fuse v2.12.1)" */
  source: string;
  /** the hash of the Go sources the binary was built from */
  version: string;
}

type Log = (line: string) => void;

/** What the binary is built from: go.mod, go.sum and the non-test Go files. */
function sourceFiles(): string[] {
  return fs
    .readdirSync(POWERFS_SOURCE_DIR)
    .filter((f) => f === 'go.mod' || f === 'go.sum' || (f.endsWith('.go') && !f.endsWith('_test.go')))
    .sort();
}

export function sourceHash(): string {
  const h = createHash('sha256');
  for (const f of sourceFiles()) h.update(`${f}\0`).update(fs.readFileSync(path.join(POWERFS_SOURCE_DIR, f))).update('\0');
  return h.digest('hex').slice(0, 16);
}

function goOnPath(): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir !== '' && fs.existsSync(path.join(dir, 'go')));
}

/**
 * Built in a private folder, then renamed into place, so that two runs building at once
 * never see half a binary.
 */
function build(dir: string, log: Log): string {
  if (!goOnPath()) throw new BrokerError('powerfs needs Go to build (Go 1.21 or later on PATH, https://go.dev/dl/); power-loss faults cannot run without it');
  log(`building powerfs with go build (once; cached in ${dir})`);
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.mkdirSync(tmp, { recursive: true });
  try {
    execFileSync('go', ['build', '-trimpath', '-o', path.join(tmp, 'powerfs'), '.'], {
      cwd: POWERFS_SOURCE_DIR,
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=readonly -buildvcs=false' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 10 * 60_000,
    });
    fs.mkdirSync(dir, { recursive: true });
    const target = path.join(dir, 'powerfs');
    fs.renameSync(path.join(tmp, 'powerfs'), target);
    return target;
  } catch (err) {
    const e = err as Error & { stderr?: Buffer };
    throw new BrokerError(`go build of powerfs failed: ${(e.stderr?.toString() || e.message).trim().split('\n').slice(-5).join(' | ')}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export async function ensurePowerFs(log: Log = () => undefined): Promise<PowerFsInstall> {
  const version = sourceHash();
  const dir = path.join(cacheRoot(), 'powerfs', version);
  const cached = path.join(dir, 'powerfs');
  const bin = fs.existsSync(cached) ? cached : build(dir, log);
  return { path: bin, source: `go build src/brokers/powerfs/fs (go-fuse ${GO_FUSE_VERSION})`, version };
}
