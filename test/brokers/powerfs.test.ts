/**
 * powerfs on a real FUSE mount, driven by Node's own fs calls: what survives each kind of
 * power cut. After a cut the backing directory is the disk a rebooted machine would find.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerError } from '../../src/core/errors.ts';
import { PowerFs, fuseProblem, powerFsMounts, sweepStaleMounts } from '../../src/brokers/powerfs/index.ts';
import { POWERFS_SOURCE_DIR } from '../../src/brokers/powerfs/install.ts';
import { parseMounts } from '../../src/brokers/powerfs/mount.ts';

const problem = fuseProblem();
const skipNote = problem ? ` (SKIPPED: ${problem})` : '';

let mounted: PowerFs[] = [];
let dirs: string[] = [];

async function mountIn(writeback: boolean): Promise<PowerFs> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'powerfs-test-'));
  dirs.push(dir);
  const p = await PowerFs.mount({ backing: path.join(dir, 'backing'), mountpoint: path.join(dir, 'mnt'), writeback });
  mounted.push(p);
  return p;
}

afterEach(async () => {
  for (const p of mounted) await p.unmount();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  mounted = [];
  dirs = [];
});

/** Writes `chunks` one write(2) each, then fsync (optional), then close. */
function writeFile(file: string, chunks: (string | Buffer)[], opts: { flags?: string; sync?: 'fsync' | 'fdatasync' } = {}): void {
  const fd = fs.openSync(file, opts.flags ?? 'a');
  for (const c of chunks) fs.writeSync(fd, typeof c === 'string' ? Buffer.from(c) : c);
  if (opts.sync === 'fsync') fs.fsyncSync(fd);
  if (opts.sync === 'fdatasync') fs.fdatasyncSync(fd);
  fs.closeSync(fd);
}

const inMount = (p: PowerFs, name: string): string => path.join(p.mountpoint, name);
const onDisk = (p: PowerFs, name: string): string => fs.readFileSync(path.join(p.backing, name), 'utf8');

const MODES = [
  { writeback: true, name: "with the kernel's write-back cache" },
  { writeback: false, name: 'every write to the layer' },
];

describe.skipIf(Boolean(problem)).each(MODES)(`powerfs, $name${skipNote}`, ({ writeback }) => {
  const mountFs = (): Promise<PowerFs> => mountIn(writeback);

  it('mounts in the mode asked for', async () => {
    const p = await mountFs();
    expect(p.writeback).toBe(writeback);
    expect((await p.stats()).writeback).toBe(writeback);
  });

  it('lose-unsynced: reads see unsynced data before the cut; after it each file has its last synced contents and length', async () => {
    const p = await mountFs();
    writeFile(inMount(p, 'log'), ['synced|'], { sync: 'fsync' });
    writeFile(inMount(p, 'log'), ['lost|', 'lost too']);
    writeFile(inMount(p, 'new'), ['never synced']);
    expect(fs.readFileSync(inMount(p, 'log'), 'utf8')).toBe('synced|lost|lost too');
    expect(fs.statSync(inMount(p, 'log')).size).toBe(20);
    expect(onDisk(p, 'log')).toBe('synced|');
    const cut = await p.cut('lose-unsynced');
    expect(cut).toEqual({ mode: 'lose-unsynced', bytesDropped: 13 + 12, filesAffected: 2, tornFiles: [] });
    expect(p.mounted).toBe(false);
    expect(powerFsMounts().map((m) => m.mountpoint)).not.toContain(p.mountpoint);
    expect(onDisk(p, 'log')).toBe('synced|');
    // metadata is durable at once: the file exists, with no data
    expect(onDisk(p, 'new')).toBe('');
    await p.remount();
    expect(fs.readFileSync(inMount(p, 'log'), 'utf8')).toBe('synced|');
  });

  it('the size stays the cached one after the kernel attribute and entry caches expire (lookups report it too)', async () => {
    const p = await mountFs();
    writeFile(inMount(p, 'conf'), [Buffer.alloc(62_741, 120)]);
    expect(fs.statSync(inMount(p, 'conf')).size).toBe(62_741);
    await new Promise((r) => setTimeout(r, 1_500)); // past the 1 s entry and attribute timeouts
    expect(fs.statSync(inMount(p, 'conf')).size).toBe(62_741);
    expect(fs.readFileSync(inMount(p, 'conf')).length).toBe(62_741);
    expect(fs.statSync(path.join(p.backing, 'conf')).size).toBe(0);
  });

  it('fsync of one file makes that file durable and no other', async () => {
    const p = await mountFs();
    writeFile(inMount(p, 'a'), ['kept'], { sync: 'fsync' });
    writeFile(inMount(p, 'b'), ['lost']);
    await p.cut('lose-unsynced');
    expect(onDisk(p, 'a')).toBe('kept');
    expect(onDisk(p, 'b')).toBe('');
  });

  it('fdatasync counts as a sync; so does each write through an O_SYNC handle', async () => {
    const p = await mountFs();
    writeFile(inMount(p, 'd'), ['datasynced'], { sync: 'fdatasync' });
    writeFile(inMount(p, 's'), ['osync'], { flags: 'as' }); // O_APPEND | O_SYNC
    await p.cut('lose-unsynced');
    expect(onDisk(p, 'd')).toBe('datasynced');
    expect(onDisk(p, 's')).toBe('osync');
  });

  it('rename: the name moves at once, the unsynced data goes with the inode', async () => {
    const p = await mountFs();
    writeFile(inMount(p, 'tmp-1'), ['renamed then synced']);
    fs.renameSync(inMount(p, 'tmp-1'), inMount(p, 'final-1'));
    writeFile(inMount(p, 'final-1'), [], { sync: 'fsync' });
    writeFile(inMount(p, 'tmp-2'), ['renamed, never synced']);
    fs.renameSync(inMount(p, 'tmp-2'), inMount(p, 'final-2'));
    expect(fs.readFileSync(inMount(p, 'final-2'), 'utf8')).toBe('renamed, never synced');
    await p.cut('lose-unsynced');
    expect(fs.readdirSync(p.backing).sort()).toEqual(['final-1', 'final-2']);
    expect(onDisk(p, 'final-1')).toBe('renamed then synced');
    expect(onDisk(p, 'final-2')).toBe('');
  });

  it('truncate is unsynced data too: lost by a cut, kept after an fsync', async () => {
    const p = await mountFs();
    writeFile(inMount(p, 'lost'), ['0123456789'], { sync: 'fsync' });
    writeFile(inMount(p, 'kept'), ['0123456789'], { sync: 'fsync' });
    fs.truncateSync(inMount(p, 'lost'), 4);
    const fd = fs.openSync(inMount(p, 'kept'), 'r+');
    fs.ftruncateSync(fd, 4);
    fs.writeSync(fd, 'ab', 8); // regrows with zeros, not the old bytes
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    expect(fs.statSync(inMount(p, 'lost')).size).toBe(4);
    expect(fs.readFileSync(inMount(p, 'lost'), 'utf8')).toBe('0123');
    await p.cut('lose-unsynced');
    expect(onDisk(p, 'lost')).toBe('0123456789');
    expect(onDisk(p, 'kept')).toBe('0123\0\0\0\0ab');
  });

  it('an O_TRUNC open is lazy: the old contents come back after a cut', async () => {
    const p = await mountFs();
    writeFile(inMount(p, 'f'), ['old contents'], { sync: 'fsync' });
    writeFile(inMount(p, 'f'), ['new'], { flags: 'w' });
    expect(fs.readFileSync(inMount(p, 'f'), 'utf8')).toBe('new');
    await p.cut('lose-unsynced');
    expect(onDisk(p, 'f')).toBe('old contents');
  });

  it('a clean unmount writes everything back', async () => {
    const p = await mountFs();
    writeFile(inMount(p, 'f'), ['never fsynced']);
    fs.truncateSync(inMount(p, 'f'), 5);
    await p.unmount();
    await p.unmount(); // idempotent
    expect(onDisk(p, 'f')).toBe('never');
    expect(powerFsMounts().map((m) => m.mountpoint)).not.toContain(p.mountpoint);
  });

  it('sync writes everything back and keeps the mount: a later cut loses only what came after', async () => {
    const p = await mountFs();
    writeFile(inMount(p, 'f'), ['before sync|']);
    expect(await p.sync()).toBe(12);
    writeFile(inMount(p, 'f'), ['after sync']);
    expect((await p.stats()).unsyncedBytes).toBe(10);
    await p.cut('lose-unsynced');
    expect(onDisk(p, 'f')).toBe('before sync|');
  });

  it('SIGTERM detaches the mount and leaves none behind', async () => {
    const p = await mountFs();
    writeFile(inMount(p, 'f'), ['x']);
    process.kill(p.pid!, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (p.mounted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(p.mounted).toBe(false);
    expect(powerFsMounts().map((m) => m.mountpoint)).not.toContain(p.mountpoint);
  });

  it('a mount whose daemon was SIGKILLed is dead, and the startup sweep detaches it', async () => {
    const p = await mountFs();
    process.kill(p.pid!, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    while (p.mounted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(() => fs.statSync(p.mountpoint)).toThrow(/ENOTCONN/);
    expect(sweepStaleMounts()).toContain(p.mountpoint);
    expect(powerFsMounts().map((m) => m.mountpoint)).not.toContain(p.mountpoint);
  });

  it('a second cut on an unmounted fs fails clearly', async () => {
    const p = await mountFs();
    await p.cut('lose-unsynced');
    await expect(p.cut('torn')).rejects.toThrow(BrokerError);
    await expect(p.cut('torn')).rejects.toThrow(/is not mounted \(cut or unmounted already; remount\(\) first\)/);
  });

  it('refuses a mountpoint inside its backing directory', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'powerfs-test-'));
    dirs.push(dir);
    await expect(PowerFs.mount({ backing: dir, mountpoint: path.join(dir, 'mnt') })).rejects.toThrow(/neither inside the other/);
  });
});

describe.skipIf(Boolean(problem))(`powerfs without the write-back cache (every write reaches the layer)${skipNote}`, () => {
  it('torn: a file appended in several writes keeps exactly its bytes up to the last 4 KiB boundary inside the last write', async () => {
    const p = await mountIn(false);
    const chunks = [0, 1, 2, 3, 4].map((i) => Buffer.alloc(3000, 97 + i)); // a..e, ends at 15000
    writeFile(inMount(p, 'journal'), chunks);
    writeFile(inMount(p, 'small'), ['synced'], { sync: 'fsync' });
    writeFile(inMount(p, 'small'), ['+one page']); // within one page: all of it lost
    const cut = await p.cut('torn');
    expect(cut).toEqual({ mode: 'torn', bytesDropped: 15000 - 12288 + 9, filesAffected: 2, tornFiles: ['journal', 'small'] });
    const journal = fs.readFileSync(path.join(p.backing, 'journal'));
    expect(journal.length).toBe(12288);
    expect(journal.equals(Buffer.concat(chunks).subarray(0, 12288))).toBe(true);
    expect(onDisk(p, 'small')).toBe('synced');
  });

  it('stats count writes, bytes, fsyncs and what is unsynced', async () => {
    const p = await mountIn(false);
    writeFile(inMount(p, 'a'), ['12345'], { sync: 'fsync' });
    writeFile(inMount(p, 'a'), ['678']);
    writeFile(inMount(p, 'b'), ['xy', 'z']);
    expect(await p.stats()).toEqual({ writeback: false, unsyncedBytes: 6, dirtyFiles: 2, writes: 4, fsyncs: 1, bytesWritten: 11 });
  });

});

/** A descriptor kept open: nothing it wrote reaches the layer before a flush (close, fsync, syncfs). */
function openWrite(file: string, chunks: string[], flags = 'a'): number {
  const fd = fs.openSync(file, flags);
  for (const c of chunks) fs.writeSync(fd, c);
  return fd;
}

/** A close after a cut may fail (the connection is gone): the descriptor is closed either way. */
function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    /* EIO or ENOTCONN from the dead mount's flush */
  }
}

describe.skipIf(Boolean(problem))(`powerfs with the kernel's write-back cache${skipNote}`, () => {
  it('is the default', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'powerfs-test-'));
    dirs.push(dir);
    const p = await PowerFs.mount({ backing: path.join(dir, 'backing'), mountpoint: path.join(dir, 'mnt') });
    mounted.push(p);
    expect(p.writeback).toBe(true);
  });

  it('writes stay in the kernel until a flush; fsync hands them over first, then syncs them', async () => {
    const p = await mountIn(true);
    const fd = openWrite(inMount(p, 'log'), Array.from({ length: 100 }, (_, i) => `${String(i).padStart(99, '.')}\n`));
    expect(await p.stats()).toMatchObject({ writes: 0, unsyncedBytes: 0, fsyncs: 0 });
    fs.fsyncSync(fd);
    // 100 write(2)s, 10,000 bytes: one page write-back of 3 pages, then the fsync
    expect(await p.stats()).toMatchObject({ writes: 1, bytesWritten: 10_000, unsyncedBytes: 0, fsyncs: 1 });
    fs.writeSync(fd, 'after');
    fs.fdatasyncSync(fd);
    expect(await p.stats()).toMatchObject({ writes: 2, unsyncedBytes: 0, fsyncs: 2 });
    expect(fs.readFileSync(path.join(p.backing, 'log')).length).toBe(10_005);
    closeQuietly(fd);
  });

  it('stats count the kernel\'s page write-backs, and as unsynced only the bytes they change', async () => {
    const p = await mountIn(true);
    writeFile(inMount(p, 'a'), ['12345'], { sync: 'fsync' });
    writeFile(inMount(p, 'a'), ['678']); // its page goes back whole at the close: 8 bytes, 3 of them new
    writeFile(inMount(p, 'b'), ['xy', 'z']);
    expect(await p.stats()).toEqual({ writeback: true, unsyncedBytes: 6, dirtyFiles: 2, writes: 3, fsyncs: 1, bytesWritten: 5 + 8 + 3 });
  });

  it('close hands the kernel\'s pages to the layer, where they are unsynced', async () => {
    const p = await mountIn(true);
    const fd = openWrite(inMount(p, 'f'), ['one', 'two']);
    expect((await p.stats()).unsyncedBytes).toBe(0);
    fs.closeSync(fd);
    expect(await p.stats()).toMatchObject({ writes: 1, unsyncedBytes: 6, dirtyFiles: 1 });
  });

  it('a cut drops what only the kernel held, counted, and none of it reaches the disk afterwards', async () => {
    const p = await mountIn(true);
    writeFile(inMount(p, 'log'), ['synced|'], { sync: 'fsync' });
    const fd = openWrite(inMount(p, 'log'), ['kernel only']);
    expect(await p.stats()).toMatchObject({ writes: 1, unsyncedBytes: 0 }); // the fsync's, not this one
    const cut = await p.cut('lose-unsynced');
    expect(cut).toEqual({ mode: 'lose-unsynced', bytesDropped: 11, filesAffected: 1, tornFiles: [] });
    closeQuietly(fd); // the kernel's last chance to write the page: the mount is gone
    await new Promise((r) => setTimeout(r, 200));
    expect(onDisk(p, 'log')).toBe('synced|');
    await p.remount();
    expect(fs.readFileSync(inMount(p, 'log'), 'utf8')).toBe('synced|');
  });

  it('sync writes back what the kernel holds too; a later cut loses only what came after', async () => {
    const p = await mountIn(true);
    const fd = openWrite(inMount(p, 'f'), ['before sync|']);
    expect(await p.sync()).toBe(12);
    fs.writeSync(fd, 'after sync');
    await p.cut('lose-unsynced');
    closeQuietly(fd);
    expect(onDisk(p, 'f')).toBe('before sync|');
  });

  it('a clean unmount writes back what the kernel holds', async () => {
    const p = await mountIn(true);
    const fd = openWrite(inMount(p, 'f'), ['open at the unmount']);
    await p.unmount();
    closeQuietly(fd);
    expect(onDisk(p, 'f')).toBe('open at the unmount');
  });

  it('a write-only open rewriting part of a page: the kernel reads the page from the layer first', async () => {
    const p = await mountIn(true);
    fs.writeFileSync(path.join(p.backing, 'f'), 'synced'); // on the disk before the kernel ever saw it
    const fd = fs.openSync(inMount(p, 'f'), fs.constants.O_WRONLY);
    fs.writeSync(fd, 'XY', null, 'utf8');
    fs.writeSync(fd, 'Z', 4);
    fs.closeSync(fd);
    expect(fs.readFileSync(inMount(p, 'f'), 'utf8')).toBe('XYncZd');
    expect(await p.stats()).toMatchObject({ unsyncedBytes: 5 }); // X Y n c Z: the page write-back trimmed at its end only
    await p.cut('lose-unsynced');
    expect(onDisk(p, 'f')).toBe('synced');
  });

  it('two appending descriptors and ftruncate keep their order through the kernel', async () => {
    const p = await mountIn(true);
    const [a, b] = [fs.openSync(inMount(p, 'f'), 'a'), fs.openSync(inMount(p, 'f'), 'a')];
    for (let i = 0; i < 3; i++) {
      fs.writeSync(a, `a${i}|`);
      fs.writeSync(b, `b${i}|`);
    }
    fs.ftruncateSync(a, 9);
    fs.writeSync(b, 'end');
    fs.fsyncSync(b);
    for (const fd of [a, b]) fs.closeSync(fd);
    await p.cut('lose-unsynced');
    expect(onDisk(p, 'f')).toBe('a0|b0|a1|end');
  });

  it('a file unlinked or replaced after the kernel wrote it does not fail the next sync', async () => {
    const p = await mountIn(true);
    writeFile(inMount(p, 'gone'), ['written, closed, unlinked']);
    fs.unlinkSync(inMount(p, 'gone'));
    writeFile(inMount(p, 'old'), ['replaced by a rename']);
    writeFile(inMount(p, 'new'), ['the new one']);
    fs.renameSync(inMount(p, 'new'), inMount(p, 'old'));
    await expect(p.sync()).resolves.toBeGreaterThan(0);
    expect(onDisk(p, 'old')).toBe('the new one');
  });

  it('refuses a torn cut, which needs every write: the mount stays', async () => {
    const p = await mountIn(true);
    await expect(p.cut('torn')).rejects.toThrow(/write-back cache.*writeback: false/);
    expect(p.mounted).toBe(true);
  });
});

const ROOT = path.resolve(import.meta.dirname, '../..');

/** A harness process (fixtures/powerfs-harness.ts) with a mount and an unsynced file. */
async function harness(): Promise<{ exit: Promise<number | null>; kill: (sig: NodeJS.Signals) => void; daemon: number; mountpoint: string; backing: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'powerfs-harness-'));
  dirs.push(dir);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures', 'powerfs-harness.ts'), dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    void exit.then(() => reject(new Error('the harness exited before mounting')));
  });
  const { pid, mountpoint } = JSON.parse(line) as { pid: number; mountpoint: string };
  return { exit, kill: (sig) => child.kill(sig), daemon: pid, mountpoint, backing: path.join(fs.realpathSync(dir), 'backing') };
}

/** Gone, or a zombie (dead, not yet reaped by its new parent). */
async function untilGone(pid: number): Promise<boolean> {
  const gone = (): boolean => {
    try {
      return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
    } catch {
      return true;
    }
  };
  for (let i = 0; i < 100 && !gone(); i++) await new Promise((r) => setTimeout(r, 50));
  return gone();
}

async function untilUnmounted(mountpoint: string): Promise<boolean> {
  for (let i = 0; i < 200 && powerFsMounts().some((m) => m.mountpoint === mountpoint); i++) await new Promise((r) => setTimeout(r, 50));
  return !powerFsMounts().some((m) => m.mountpoint === mountpoint);
}

describe.skipIf(Boolean(problem))(`powerfs under a harness that is interrupted${skipNote}`, () => {
  it('Ctrl-C: the harness unmounts in order (writing back) and exits 130', async () => {
    const h = await harness();
    h.kill('SIGINT');
    expect(await h.exit).toBe(130);
    expect(await untilUnmounted(h.mountpoint)).toBe(true);
    expect(fs.readFileSync(path.join(h.backing, 'f'), 'utf8')).toBe('written, never fsynced');
  });

  it('kill -9 of the harness: the daemon dies with it (PR_SET_PDEATHSIG) and detaches its mount', async () => {
    const h = await harness();
    h.kill('SIGKILL');
    await h.exit;
    expect(await untilUnmounted(h.mountpoint)).toBe(true);
    expect(await untilGone(h.daemon)).toBe(true);
  });
});

const goMissing = (() => {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'Go is not installed';
  }
})();

describe('powerfs cache semantics (the Go unit tests)', () => {
  it.skipIf(Boolean(goMissing))(`go test passes${goMissing ? ` (SKIPPED: ${goMissing})` : ''}`, () => {
    const out = execFileSync('go', ['test', '-count=1', './...'], { cwd: POWERFS_SOURCE_DIR, encoding: 'utf8', env: { ...process.env, CGO_ENABLED: '0' } });
    expect(out).toMatch(/^ok\s/m);
  });
});

describe('powerfs mount table', () => {
  it('reads /proc/mounts fields with their octal escapes', () => {
    expect(parseMounts('/data/b\\040x /tmp/m\\040y fuse.powerfs rw,nosuid 0 0\n')).toEqual([{ source: '/data/b x', mountpoint: '/tmp/m y', type: 'fuse.powerfs' }]);
  });
});
