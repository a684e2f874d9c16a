/**
 * The kernel's view of powerfs mounts (/proc/mounts), whether this machine can host one,
 * and the sweep of mounts left behind by a daemon that is gone.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const FS_TYPE = 'fuse.powerfs';

export interface MountEntry {
  source: string;
  mountpoint: string;
  type: string;
}

/** /proc/mounts escapes space, tab, newline and backslash as octal (\040...). */
function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMounts(text: string): MountEntry[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [source = '', mountpoint = '', type = ''] = l.split(' ');
      return { source: unescapeMount(source), mountpoint: unescapeMount(mountpoint), type };
    });
}

export function powerFsMounts(): MountEntry[] {
  let text = '';
  try {
    text = fs.readFileSync('/proc/mounts', 'utf8');
  } catch {
    return [];
  }
  return parseMounts(text).filter((m) => m.type === FS_TYPE);
}

export function isMounted(mountpoint: string): boolean {
  const want = path.resolve(mountpoint);
  return powerFsMounts().some((m) => m.mountpoint === want);
}

/** Why power-loss faults cannot run here, or undefined when they can. */
export function fuseProblem(): string | undefined {
  if (process.platform !== 'linux') return `power-loss faults need Linux's FUSE (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'power-loss faults need root: powerfs mounts FUSE directly, without fusermount';
  // BUSBENCH_FUSE_DEVICE names another node to check: the tests point it at a missing one to see the refusal
  const device = process.env.BUSBENCH_FUSE_DEVICE ?? '/dev/fuse';
  try {
    fs.accessSync(device, fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return `power-loss faults need ${device} (in a container: --device /dev/fuse --cap-add SYS_ADMIN)`;
  }
  return undefined;
}

/** A mount whose daemon died answers every call with ENOTCONN ("transport endpoint"). */
function daemonGone(mountpoint: string): boolean {
  try {
    fs.statSync(mountpoint);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOTCONN';
  }
}

/**
 * Detaches powerfs mounts whose daemon is gone (e.g. SIGKILLed with an earlier run), so
 * that their directories can be used again. Mounts with a live daemon (another run's)
 * are left alone. Returns the mountpoints it detached.
 */
export function sweepStaleMounts(): string[] {
  const swept: string[] = [];
  for (const m of powerFsMounts()) {
    if (!daemonGone(m.mountpoint)) continue;
    try {
      execFileSync('umount', ['-l', m.mountpoint], { stdio: 'ignore', timeout: 10_000 });
      swept.push(m.mountpoint);
    } catch {
      /* raced with another sweep, or umount is missing: the next run tries again */
    }
  }
  return swept;
}
