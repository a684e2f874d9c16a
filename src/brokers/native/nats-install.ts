/**
 * Finds or installs nats-server. Order: NATS_SERVER_BIN when the user set it (an
 * explicit choice wins), the cache, `go install` of the pinned version into the cache,
 * Debian's package, then PATH.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BrokerError } from '../../core/errors.ts';

export const NATS_SERVER_VERSION = '2.15.2';

export interface NatsServerInstall {
  path: string;
  version: string;
  source: string;
  /** sync_interval arrived in 2.10; older servers refuse the setting */
  supportsSyncInterval: boolean;
}

export function cacheRoot(): string {
  return process.env.BUSBENCH_CACHE ?? path.join(os.homedir(), '.cache', 'busbench');
}

function versionOf(bin: string): string {
  const out = execFileSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const m = /v?(\d+\.\d+\.\d+)/.exec(out);
  if (!m) throw new BrokerError(`${bin} --version printed no version: ${out.trim()}`);
  return m[1]!;
}

function describe(bin: string, source: string): NatsServerInstall {
  const version = versionOf(bin);
  const [major, minor] = version.split('.').map(Number) as [number, number];
  return { path: bin, version, source, supportsSyncInterval: major > 2 || (major === 2 && minor >= 10) };
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const f = path.join(dir, name);
    if (dir && fs.existsSync(f)) return f;
  }
  return undefined;
}

export async function ensureNatsServer(log: (line: string) => void = () => undefined): Promise<NatsServerInstall> {
  if (process.env.NATS_SERVER_BIN) return describe(process.env.NATS_SERVER_BIN, 'NATS_SERVER_BIN');
  const dir = path.join(cacheRoot(), 'nats', NATS_SERVER_VERSION);
  const cached = path.join(dir, 'nats-server');
  const goSource = `go install github.com/nats-io/nats-server/v2@v${NATS_SERVER_VERSION}`;
  if (fs.existsSync(cached)) return describe(cached, goSource);
  if (onPath('go')) {
    log(`building nats-server v${NATS_SERVER_VERSION} with go install (once; cached in ${dir})`);
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.mkdirSync(tmp, { recursive: true });
    try {
      execFileSync('go', ['install', `github.com/nats-io/nats-server/v2@v${NATS_SERVER_VERSION}`], {
        env: { ...process.env, GOBIN: tmp, CGO_ENABLED: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      fs.mkdirSync(dir, { recursive: true });
      fs.renameSync(path.join(tmp, 'nats-server'), cached);
      return describe(cached, goSource);
    } catch (err) {
      log(`go install failed (${(err as Error).message.split('\n')[0]}); trying other sources`);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  for (const debian of ['/usr/sbin/nats-server', '/usr/bin/nats-server']) {
    if (fs.existsSync(debian)) return describe(debian, "Debian package nats-server");
  }
  const found = onPath('nats-server');
  if (found) return describe(found, 'PATH');
  throw new BrokerError(`nats-server not found: install Go (busbench then builds v${NATS_SERVER_VERSION}), or 'apt-get install nats-server', or set NATS_SERVER_BIN`);
}
