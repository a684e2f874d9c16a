/**
 * A power cut on real files, for testing the journal without the FUSE layer. It watches the
 * calls the journal makes into node:fs (the real calls still run, on real files) and, on
 * cut(), leaves each file it saw written as a filesystem that keeps only synced state would:
 * - a file holds what it held at its last fdatasync/fsync (nothing, if it was never synced);
 * - a file created while watching is gone unless its directory was fsynced after it was
 *   created: fdatasync makes a file's data durable, not its name;
 * - a deletion is durable at once: the worst case for a journal that deletes what a commit
 *   made obsolete before that commit is on disk.
 * Files that existed before watching started count as synced as they were.
 */
import fs from 'node:fs';
import path from 'node:path';
import { vi } from 'vitest';

export interface PowerCut {
  /** what the journal did, in order: "sync <name>", "dirsync", "rm <name>" */
  readonly events: string[];
  /** The next deletion reaches the disk and then the power goes: rmSync throws. */
  failAfterNextDelete(): void;
  /** Drops what was not synced, and stops watching. */
  cut(): void;
}

export const POWER_CUT = 'power cut';

export function watchPowerCut(dir: string): PowerCut {
  const paths = new Map<number, string>();
  const synced = new Map<string, Buffer>();
  const written = new Set<string>();
  const unnamed = new Set<string>();
  const events: string[] = [];
  let failDelete = false;

  const onSync = (fd: number): void => {
    const p = paths.get(fd);
    if (p === undefined) return;
    if (fs.statSync(p).isDirectory()) {
      events.push('dirsync');
      for (const f of unnamed) if (path.dirname(f) === p) unnamed.delete(f);
    } else {
      events.push(`sync ${path.basename(p)}`);
      synced.set(p, fs.readFileSync(p));
    }
  };

  // The real calls, taken before the spies replace them.
  const { openSync, fdatasyncSync, fsyncSync, fdatasync, rmSync } = fs;
  const spies = [
    vi.spyOn(fs, 'openSync').mockImplementation((file: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode | null) => {
      const p = path.resolve(String(file));
      const existed = fs.existsSync(p);
      const fd = openSync(p, flags ?? 'r', mode);
      paths.set(fd, p);
      // readFileSync opens with 'r' (and comes back here): only files opened to write are watched.
      if (flags !== undefined && flags !== 'r' && !written.has(p)) {
        written.add(p);
        if (existed) synced.set(p, fs.readFileSync(p));
        else unnamed.add(p);
      }
      return fd;
    }),
    vi.spyOn(fs, 'fdatasyncSync').mockImplementation(syncedBy(fdatasyncSync, onSync)),
    vi.spyOn(fs, 'fsyncSync').mockImplementation(syncedBy(fsyncSync, onSync)),
    vi.spyOn(fs, 'fdatasync').mockImplementation(asyncSyncedBy(fdatasync, onSync)),
    vi.spyOn(fs, 'rmSync').mockImplementation(deletedBy(rmSync, (p) => {
      events.push(`rm ${path.basename(p)}`);
      if (!failDelete) return;
      failDelete = false;
      throw new Error(POWER_CUT);
    })),
  ];

  return {
    events,
    failAfterNextDelete: () => {
      failDelete = true;
    },
    cut: () => {
      for (const s of spies) s.mockRestore();
      for (const p of written) {
        if (!fs.existsSync(p) || !p.startsWith(dir)) continue;
        if (unnamed.has(p)) fs.rmSync(p);
        else fs.writeFileSync(p, synced.get(p) ?? Buffer.alloc(0));
      }
    },
  };
}

function syncedBy(real: (fd: number) => void, onSync: (fd: number) => void): (fd: number) => void {
  return (fd) => {
    real(fd);
    onSync(fd);
  };
}

function asyncSyncedBy(real: typeof fs.fdatasync, onSync: (fd: number) => void): typeof fs.fdatasync {
  return ((fd: number, cb: fs.NoParamCallback) =>
    real(fd, (err) => {
      if (!err) onSync(fd);
      cb(err);
    })) as typeof fs.fdatasync;
}

function deletedBy(real: typeof fs.rmSync, after: (p: string) => void): typeof fs.rmSync {
  return (file, options) => {
    real(file, options);
    after(path.resolve(String(file)));
  };
}
