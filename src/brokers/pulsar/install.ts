/**
 * Installs Apache Pulsar for native runs: the binary distribution from Maven Central,
 * unpacked into the busbench cache (outside the repository) and reused by every run.
 *
 * Maven Central rather than the Apache mirrors because CI reaches only package registries.
 * Every step lands atomically (download into a temporary folder, unpack into a temporary
 * folder, then rename), so an interrupted install never leaves a half-written tree that a
 * later run would take for a cache hit.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BrokerError } from '../../core/errors.ts';
import { findPulsarJava, type JavaRuntime } from './java.ts';

const run = promisify(execFile);

/** Newest release of the 4.0 LTS line on Maven Central when this was written. */
export const PULSAR_VERSION = '4.0.8';

export interface PulsarInstall {
  /** the unpacked distribution, e.g. ~/.cache/busbench/pulsar/apache-pulsar-4.0.8 */
  home: string;
  version: string;
  /** where the distribution came from, recorded in result files */
  source: string;
  javaHome: string;
  java: JavaRuntime;
}

export interface EnsurePulsarOptions {
  version?: string;
  /** a JDK home; default: see findPulsarJava */
  javaHome?: string;
}

export function cacheRoot(): string {
  return process.env.BUSBENCH_CACHE ?? path.join(os.homedir(), '.cache', 'busbench');
}

function coordinates(version: string): string {
  return `org.apache.pulsar:pulsar-server-distribution:${version}:tar.gz:bin`;
}

/**
 * Returns the installed distribution, downloading and unpacking it first if needed.
 * Idempotent: with the unpacked tree in the cache it only checks the JDK.
 */
export async function ensurePulsar(log: (line: string) => void, opts: EnsurePulsarOptions = {}): Promise<PulsarInstall> {
  const version = opts.version ?? PULSAR_VERSION;
  const java = findPulsarJava(opts.javaHome);
  const dir = path.join(cacheRoot(), 'pulsar');
  const home = path.join(dir, `apache-pulsar-${version}`);
  const source = `Maven Central ${coordinates(version)}`;
  const done: PulsarInstall = { home, version, source, javaHome: java.home, java };
  if (fs.existsSync(path.join(home, 'bin', 'pulsar'))) return done;

  fs.mkdirSync(dir, { recursive: true });
  const tarball = path.join(dir, `pulsar-server-distribution-${version}-bin.tar.gz`);
  if (!fs.existsSync(tarball)) await download(version, dir, tarball, log);
  await unpack(tarball, dir, home, log);
  return done;
}

async function download(version: string, dir: string, tarball: string, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  log(`pulsar: downloading ${coordinates(version)} from Maven Central (about 245 MB)`);
  const tmp = fs.mkdtempSync(path.join(dir, '.download-'));
  try {
    // A local repository of our own keeps the 245 MB artifact out of ~/.m2 (we keep one
    // copy, the tarball); -C makes a checksum mismatch fatal instead of a warning.
    await run(
      'mvn',
      [
        '-B',
        '-q',
        '-C',
        `-Dmaven.repo.local=${path.join(dir, 'm2')}`,
        'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy',
        `-Dartifact=${coordinates(version)}`,
        `-DoutputDirectory=${tmp}`,
      ],
      { maxBuffer: 16 * 1024 * 1024, timeout: 30 * 60_000 },
    );
    const got = fs.readdirSync(tmp).find((f) => f.endsWith('.tar.gz'));
    if (!got) throw new BrokerError(`pulsar: mvn finished but left no .tar.gz in ${tmp}`);
    fs.renameSync(path.join(tmp, got), tarball);
  } catch (err) {
    if (err instanceof BrokerError) throw err;
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    const hint = e.code === 'ENOENT' ? ' (is Maven installed? apt-get install maven)' : '';
    throw new BrokerError(`pulsar: download with mvn failed${hint}: ${e.message}`, `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n'), { cause: err });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    // The plugin jars stay for the next download; the artifact itself is the tarball now.
    fs.rmSync(path.join(dir, 'm2', 'org', 'apache', 'pulsar'), { recursive: true, force: true });
  }
  log(`pulsar: downloaded in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

async function unpack(tarball: string, dir: string, home: string, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  const tmp = fs.mkdtempSync(path.join(dir, '.unpack-'));
  try {
    await run('tar', ['-xzf', tarball, '-C', tmp], { maxBuffer: 16 * 1024 * 1024 });
    const inner = fs.readdirSync(tmp).find((f) => f.startsWith('apache-pulsar-'));
    if (!inner || !fs.existsSync(path.join(tmp, inner, 'bin', 'pulsar'))) {
      throw new BrokerError(`pulsar: ${tarball} does not hold an apache-pulsar-*/bin/pulsar; delete it and run again`);
    }
    try {
      fs.renameSync(path.join(tmp, inner), home);
    } catch (err) {
      // Another process unpacked the same version meanwhile: theirs is as good as ours.
      if (!fs.existsSync(path.join(home, 'bin', 'pulsar'))) throw err;
    }
  } catch (err) {
    if (err instanceof BrokerError) throw err;
    throw new BrokerError(`pulsar: unpacking ${tarball} failed: ${(err as Error).message}`, '', { cause: err });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  log(`pulsar: unpacked into ${home} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
