/**
 * Finds or installs the NATS programs busbench runs: nats-server (the broker) and natscli
 * (`nats bench`, the reference figure of bench/nats-publish.ts).
 *
 * nats-server, first hit wins:
 *   1. NATS_SERVER_BIN, when the user set it: an explicit choice beats every default;
 *   2. the cache, <cache>/nats/<version>/nats-server, where 3. puts it;
 *   3. `go install` of the pinned version into the cache, when Go is on PATH;
 *   4. Debian's package (/usr/sbin/nats-server, 2.9.10 in bookworm; installed with
 *      apt-get when we are root and it is missing);
 *   5. nats-server on PATH.
 * <cache> is $BUSBENCH_CACHE, default ~/.cache/busbench. What ran and where it came from
 * is recorded in the result file, so a 2.9.10 run is never mistaken for a 2.15.2 one.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BrokerError } from '../../core/errors.ts';

export const NATS_SERVER_VERSION = '2.15.2';
export const NATS_CLI_VERSION = '0.5.1';

export interface NatsInstall {
  path: string;
  version: string;
  /** e.g. "go install github.com/nats-io/nats-server/v2@v2.15.2", "Debian package nats-server" */
  source: string;
}

export interface NatsServerInstall extends NatsInstall {
  /** jetstream.sync_interval arrived in 2.10: older servers refuse to start with it */
  supportsSyncInterval: boolean;
}

type Log = (line: string) => void;

export function cacheRoot(): string {
  return process.env.BUSBENCH_CACHE ?? path.join(os.homedir(), '.cache', 'busbench');
}

/** "2.9.10" -> true for >= major.minor */
export function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [ma = 0, mi = 0] = version.split('.').map(Number);
  return ma > major || (ma === major && mi >= minor);
}

function versionOf(bin: string): string {
  let out: string;
  try {
    out = execFileSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 });
  } catch (err) {
    throw new BrokerError(`${bin} --version failed: ${(err as Error).message.split('\n')[0]}`);
  }
  const m = /v?(\d+\.\d+\.\d+)/.exec(out);
  if (!m) throw new BrokerError(`${bin} --version printed no version: ${out.trim()}`);
  return m[1]!;
}

function serverInstall(bin: string, source: string): NatsServerInstall {
  const version = versionOf(bin);
  return { path: bin, version, source, supportsSyncInterval: versionAtLeast(version, 2, 10) };
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const f = path.join(dir, name);
    if (dir && fs.existsSync(f)) return f;
  }
  return undefined;
}

/**
 * `go install module@version` into `dir`, built in a private folder first so that two
 * runs building at once never see half a binary. Returns the binary, or undefined (logged)
 * when Go is missing or the build fails.
 */
function goInstall(module: string, binary: string, dir: string, log: Log): string | undefined {
  if (!onPath('go')) return undefined;
  log(`building ${binary} with go install ${module} (once; cached in ${dir})`);
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.mkdirSync(tmp, { recursive: true });
  try {
    execFileSync('go', ['install', module], { env: { ...process.env, GOBIN: tmp, CGO_ENABLED: '0' }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 20 * 60_000 });
    fs.mkdirSync(dir, { recursive: true });
    const target = path.join(dir, binary);
    fs.renameSync(path.join(tmp, binary), target);
    return target;
  } catch (err) {
    const e = err as Error & { stderr?: Buffer };
    log(`go install ${module} failed: ${(e.stderr?.toString() || e.message).trim().split('\n').slice(-3).join(' | ')}`);
    return undefined;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const DEBIAN_BIN = '/usr/sbin/nats-server';

/** Debian's nats-server, installing the package when we may (root, apt-get present). */
function debianServer(log: Log): string | undefined {
  if (fs.existsSync(DEBIAN_BIN)) return DEBIAN_BIN;
  if (process.getuid?.() !== 0 || !onPath('apt-get')) return undefined;
  log('no Go: installing Debian package nats-server (2.9.10 on bookworm: no sync_interval)');
  try {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'nats-server'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 10 * 60_000 });
  } catch (err) {
    log(`apt-get install nats-server failed (${(err as Error).message.split('\n')[0]})`);
  }
  return fs.existsSync(DEBIAN_BIN) ? DEBIAN_BIN : undefined;
}

export async function ensureNatsServer(log: Log = () => undefined): Promise<NatsServerInstall> {
  const explicit = process.env.NATS_SERVER_BIN;
  if (explicit) {
    if (!fs.existsSync(explicit)) throw new BrokerError(`NATS_SERVER_BIN=${explicit}: no such file`);
    return serverInstall(explicit, `NATS_SERVER_BIN=${explicit}`);
  }
  const module = `github.com/nats-io/nats-server/v2@v${NATS_SERVER_VERSION}`;
  const dir = path.join(cacheRoot(), 'nats', NATS_SERVER_VERSION);
  const cached = path.join(dir, 'nats-server');
  if (fs.existsSync(cached)) return serverInstall(cached, `go install ${module}`);
  const built = goInstall(module, 'nats-server', dir, log);
  if (built) return serverInstall(built, `go install ${module}`);
  const debian = debianServer(log);
  if (debian) return serverInstall(debian, 'Debian package nats-server');
  const found = onPath('nats-server');
  if (found) return serverInstall(found, `PATH (${found})`);
  throw new BrokerError(`nats-server not found: install Go (busbench then builds v${NATS_SERVER_VERSION}), or 'apt-get install nats-server', or set NATS_SERVER_BIN`);
}

/**
 * natscli for `nats bench`: NATS_CLI_BIN, the cache, `go install` of the pinned version,
 * then `nats` on PATH. Only bench/nats-publish.ts needs it.
 */
export async function ensureNatsCli(log: Log = () => undefined): Promise<NatsInstall> {
  const explicit = process.env.NATS_CLI_BIN;
  if (explicit) return { path: explicit, version: versionOf(explicit), source: `NATS_CLI_BIN=${explicit}` };
  const module = `github.com/nats-io/natscli/nats@v${NATS_CLI_VERSION}`;
  const dir = path.join(cacheRoot(), 'natscli', NATS_CLI_VERSION);
  const cached = path.join(dir, 'nats');
  const bin = fs.existsSync(cached) ? cached : goInstall(module, 'nats', dir, log);
  if (bin) return { path: bin, version: versionOf(bin), source: `go install ${module}` };
  const found = onPath('nats');
  if (found) return { path: found, version: versionOf(found), source: `PATH (${found})` };
  throw new BrokerError(`natscli not found: install Go (busbench then builds v${NATS_CLI_VERSION}), or set NATS_CLI_BIN`);
}
