/**
 * Which JDK runs the Pulsar broker.
 *
 * Pulsar 4.0 is documented for Java 21 (its Docker image ships 21), while Debian 12's
 * default is 17, so the system `java` is not good enough: we look for a JDK >= 21 in
 * JAVA_HOME and under /usr/lib/jvm, preferring the release closest to 21 (the one upstream
 * tests most). 4.0.8's broker classes target Java 17 and bin/pulsar only refuses < 17,
 * so an explicit `javaHome` of 17 is accepted; it is just never picked by itself.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BrokerError } from '../../core/errors.ts';

export interface JavaRuntime {
  home: string;
  /** major version, e.g. 25 */
  major: number;
  /** full version and vendor, e.g. "25.0.3 (Eclipse Adoptium)" */
  label: string;
}

export const PULSAR_MIN_JAVA = 21;
const JVM_DIR = '/usr/lib/jvm';

/** Reads a JDK's version from its `release` file, or from `java -version` when the file is missing. */
export function inspectJava(home: string): JavaRuntime | null {
  const java = path.join(home, 'bin', 'java');
  if (!fs.existsSync(java)) return null;
  let version = '';
  let vendor = '';
  try {
    const release = fs.readFileSync(path.join(home, 'release'), 'utf8');
    version = /^JAVA_VERSION="([^"]+)"/m.exec(release)?.[1] ?? '';
    vendor = /^IMPLEMENTOR="([^"]+)"/m.exec(release)?.[1] ?? '';
  } catch {
    try {
      // `java -version` prints to stderr; execFileSync only returns stdout, so merge them.
      const out = execFileSync('sh', ['-c', '"$0" -version 2>&1', java], { encoding: 'utf8', timeout: 20_000 });
      version = /version "([^"]+)"/.exec(out)?.[1] ?? '';
    } catch {
      return null;
    }
  }
  const major = majorOf(version);
  if (!major) return null;
  return { home, major, label: vendor ? `${version} (${vendor})` : version };
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/** "1.8.0_392" → 8, "17.0.15" → 17, "25" → 25 */
export function majorOf(version: string): number {
  const m = /^(\d+)(?:\.(\d+))?/.exec(version);
  if (!m) return 0;
  const first = Number(m[1]);
  return first === 1 ? Number(m[2] ?? 0) : first;
}

/**
 * The JDK to run Pulsar with: `explicit` if given (must be >= 17), else JAVA_HOME if it is
 * >= 21, else the JDK under /usr/lib/jvm closest to 21 from above.
 */
export function findPulsarJava(explicit?: string): JavaRuntime {
  if (explicit) {
    const rt = inspectJava(explicit);
    if (!rt || rt.major < 17) throw new BrokerError(`pulsar: javaHome ${explicit} is not a JDK >= 17 (Pulsar refuses older ones)`);
    return rt;
  }
  const fromEnv = process.env.JAVA_HOME ? inspectJava(process.env.JAVA_HOME) : null;
  if (fromEnv && fromEnv.major >= PULSAR_MIN_JAVA) return fromEnv;

  const found: JavaRuntime[] = [];
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(JVM_DIR);
  } catch {
    /* no system JDKs */
  }
  for (const entry of entries) {
    // Debian links aliases (java-1.17.0-openjdk-amd64 → java-17-openjdk-amd64): count each JDK once.
    const rt = inspectJava(realpath(path.join(JVM_DIR, entry)));
    if (rt && rt.major >= PULSAR_MIN_JAVA && !found.some((f) => f.home === rt.home)) found.push(rt);
  }
  found.sort((a, b) => a.major - b.major);
  const best = found[0];
  if (best) return best;

  const seen = [fromEnv, ...entries.map((e) => inspectJava(path.join(JVM_DIR, e)))]
    .filter((r): r is JavaRuntime => r !== null)
    .map((r) => `${r.home} (${r.major})`);
  throw new BrokerError(
    `pulsar: no JDK >= ${PULSAR_MIN_JAVA} found in JAVA_HOME or ${JVM_DIR} (seen: ${seen.join(', ') || 'none'}); ` +
      `install one (e.g. Temurin 21) and set JAVA_HOME, or pass javaHome`,
  );
}
