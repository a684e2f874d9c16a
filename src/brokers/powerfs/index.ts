/**
 * powerfs: the power-loss fault. A FUSE layer (the Go program in ./fs) mounted over a
 * backing directory keeps every written byte that no fsync/fdatasync of its file has
 * covered in its own cache; a cut drops that cache as a power failure would, and the
 * backing directory is then what a machine would find on its disk when it boots again.
 *
 * What it does, exactly (the Go main file says the same):
 *   - Everything passes through to the backing directory except file data: writes and
 *     size changes (write, truncate, ftruncate, O_TRUNC at open) not covered by an fsync
 *     or fdatasync of that file stay in the layer, per inode; reads and stat see them.
 *   - fsync/fdatasync of a file writes it back and fsyncs the backing file for real, so
 *     a broker pays a real fsync's cost. Other files keep their unsynced data. O_SYNC and
 *     O_DSYNC writes are synced one by one.
 *   - Limit: metadata (create, mkdir, unlink, rename, link, symlink, chmod...) reaches the
 *     backing directory at once, so it is durable at once. A rename takes the file's
 *     unsynced data along. syncfs(2) is not seen by the layer and syncs nothing.
 *     Extended attributes are not supported (passed through, they would cost a round trip
 *     to the daemon per write: the kernel asks for security.capability each time).
 *   - cut('lose-unsynced'): every file returns to its last synced contents and length.
 *   - cut('torn'): every unsynced write of a file but the last persists (the kernel wrote
 *     dirty pages back in order); the last keeps its bytes up to the last 4 KiB-aligned
 *     file offset strictly inside it (none of it when it lies within one page). This is
 *     the torn BookKeeper journal record of issue 13: a tail of zeros from a 4 KiB-aligned
 *     offset.
 *   - sync(): the kernel's periodic write-back; everything written back, the mount stays.
 *   - unmount(): an orderly power-off, everything written back.
 *   - writeback (MountOptions, default on): the kernel's FUSE write-back cache. Writes stay
 *     in the kernel's page cache until an fsync, a close or the kernel's own write-back
 *     hands them to the layer as page write-backs; lose-unsynced, sync and unmount cover
 *     those pages too (the daemon has the kernel hand them over first). Counts are of the
 *     kernel's write-backs. A torn cut needs writeback off (its last write would be the
 *     kernel's page write-back, not the program's) and is refused with it on.
 * After a cut the daemon unmounts and exits; remount() starts a fresh one on the same
 * backing directory (a fresh mount has no stale kernel page cache).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { PowerCut, PowerLossMode } from '../../core/contract.ts';
import { BrokerError, BusbenchError } from '../../core/errors.ts';
import { onInterrupt } from '../common/signals.ts';
import { tailOfFile } from '../common/processes.ts';
import { ensurePowerFs } from './install.ts';
import { fuseProblem, isMounted, sweepStaleMounts } from './mount.ts';

export { ensurePowerFs, type PowerFsInstall } from './install.ts';
export { fuseProblem, powerFsMounts, sweepStaleMounts } from './mount.ts';

export { POWER_LOSS_MODES, type PowerCut, type PowerLossMode } from '../../core/contract.ts';

export interface PowerFsStats {
  /** whether the mount runs with the kernel's write-back cache */
  writeback: boolean;
  /** bytes written that no sync has covered, over all files */
  unsyncedBytes: number;
  /** files with unsynced data or an unsynced size change */
  dirtyFiles: number;
  writes: number;
  fsyncs: number;
  bytesWritten: number;
}

type Log = (line: string) => void;

export interface MountOptions {
  backing: string;
  mountpoint: string;
  /**
   * The kernel's FUSE write-back cache (default on): the kernel keeps a program's writes
   * in its page cache and hands them to the layer as page write-backs (at fsync, close,
   * sync() and its own write-back), which costs a fraction of a round trip per write(2).
   * lose-unsynced is exact either way; a torn cut tears the layer's last write, which
   * with the cache is the kernel's last page write-back, not the program's last write.
   */
  writeback?: boolean;
  log?: Log;
}

const FILE_PREFIX = 'busbench-powerfs-';
const READY_TIMEOUT_MS = 15_000;
const EXIT_TIMEOUT_MS = 15_000;
let swept = false;
let sequence = 0;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Control sockets and logs of daemons whose harness is gone (it was killed with -9). */
function removeOrphanFiles(): void {
  for (const f of fs.readdirSync(os.tmpdir())) {
    const m = new RegExp(`^${FILE_PREFIX}(\\d+)-\\d+\\.(log|sock)$`).exec(f);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) fs.rmSync(path.join(os.tmpdir(), f), { force: true });
  }
}

/** The two directories must be distinct and neither inside the other. */
function checkDirs(backing: string, mountpoint: string): void {
  const inside = (a: string, b: string): boolean => a === b || a.startsWith(b + path.sep);
  if (inside(backing, mountpoint) || inside(mountpoint, backing)) {
    throw new BusbenchError('USAGE', `powerfs: backing ${backing} and mountpoint ${mountpoint} must be distinct directories, neither inside the other`);
  }
  if (isMounted(mountpoint)) throw new BusbenchError('USAGE', `powerfs: ${mountpoint} already has a powerfs mount`);
}

type Reply = Record<string, unknown>;

/** One JSON line to the daemon's control socket, one JSON line back. */
function request(socket: string, body: object): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const conn = net.createConnection(socket);
    let buffer = '';
    conn.setEncoding('utf8');
    conn.setTimeout(EXIT_TIMEOUT_MS, () => conn.destroy(new Error(`no reply within ${EXIT_TIMEOUT_MS / 1000} s`)));
    conn.on('connect', () => conn.write(`${JSON.stringify(body)}\n`));
    conn.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      conn.end();
      try {
        resolve(JSON.parse(buffer.slice(0, nl)) as Reply);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    conn.on('error', reject);
    conn.on('close', () => reject(new Error('the daemon closed the control socket without a reply')));
  });
}

function num(reply: Reply, field: string): number {
  const v = reply[field];
  if (typeof v !== 'number') throw new BrokerError(`powerfs replied without a numeric ${field}: ${JSON.stringify(reply)}`);
  return v;
}

/** One powerfs process: a mount that lives until a cut, a shutdown or SIGTERM. */
class Daemon {
  readonly exited: Promise<number | null>;
  private code: number | null | undefined;
  private lastLog: string | undefined;

  private constructor(
    readonly child: ChildProcess,
    readonly socket: string,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.code = code ?? (signal ? null : 0);
        // the tail is kept for the error a caller may still raise; the files go
        this.lastLog = tailOfFile(this.logFile, 20);
        this.cleanFiles();
        resolve(this.code);
      });
    });
    child.once('error', () => undefined); // surfaced through `exited` and the log
  }

  get running(): boolean {
    return this.code === undefined;
  }

  logTail(): string {
    return this.lastLog ?? tailOfFile(this.logFile, 20);
  }

  /**
   * Own process group, so that a terminal's Ctrl-C reaches the harness only, which then
   * unmounts in order; unref'd, because PR_SET_PDEATHSIG ends the daemon with us anyway.
   */
  static async start(bin: string, backing: string, mountpoint: string, writeback: boolean): Promise<Daemon> {
    const base = path.join(os.tmpdir(), `${FILE_PREFIX}${process.pid}-${++sequence}`);
    const log = fs.openSync(`${base}.log`, 'w');
    const args = ['-backing', backing, '-mount', mountpoint, '-control', `${base}.sock`, ...(writeback ? ['-writeback'] : [])];
    const child = spawn(bin, args, {
      stdio: ['ignore', 'pipe', log],
      detached: true,
    });
    fs.closeSync(log);
    const d = new Daemon(child, `${base}.sock`, `${base}.log`);
    child.unref();
    await d.ready(mountpoint);
    return d;
  }

  private async ready(mountpoint: string): Promise<void> {
    const out = this.child.stdout;
    if (!out) throw new BrokerError('powerfs: no stdout pipe');
    let timer: NodeJS.Timeout | undefined;
    const said = new Promise<boolean>((resolve) => {
      let text = '';
      out.setEncoding('utf8');
      out.on('data', (chunk: string) => {
        text += chunk;
        if (text.includes('ready\n')) resolve(true);
      });
      timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
    });
    const ok = await Promise.race([said, this.exited.then(() => false)]);
    clearTimeout(timer);
    if (out instanceof net.Socket) out.unref();
    if (ok) return;
    await this.stop();
    throw new BrokerError(`powerfs could not mount ${mountpoint}`, this.logTail());
  }

  /** SIGTERM: the daemon detaches its mount without writing back; SIGKILL after a grace. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /** A request after which the daemon unmounts and exits 0. */
  async final(body: object, what: string): Promise<Reply> {
    let reply: Reply;
    try {
      reply = await request(this.socket, body);
    } catch (err) {
      await this.stop();
      throw new BrokerError(`powerfs ${what} failed: ${(err as Error).message}`, this.logTail());
    }
    const timer = setTimeout(() => this.child.kill('SIGTERM'), EXIT_TIMEOUT_MS);
    const code = await this.exited;
    clearTimeout(timer);
    if (reply.ok !== true || code !== 0) {
      throw new BrokerError(`powerfs ${what} failed: ${String(reply.error ?? `exit ${code}`)}`, this.logTail());
    }
    return reply;
  }

  cleanFiles(): void {
    fs.rmSync(this.socket, { force: true });
    fs.rmSync(this.logFile, { force: true });
  }
}

export class PowerFs {
  private daemon: Daemon | undefined;
  private unregister: (() => void) | undefined;

  private constructor(
    readonly backing: string,
    readonly mountpoint: string,
    /** the kernel's write-back cache (MountOptions.writeback) */
    readonly writeback: boolean,
    private readonly bin: string,
    private readonly log: Log,
  ) {}

  /** Mounts powerfs at `mountpoint` over `backing` (both created when missing). */
  static async mount(o: MountOptions): Promise<PowerFs> {
    const problem = fuseProblem();
    if (problem) throw new BusbenchError('USAGE', problem);
    const log = o.log ?? (() => undefined);
    if (!swept) {
      swept = true;
      for (const mp of sweepStaleMounts()) log(`detached a stale powerfs mount at ${mp} (its daemon was gone)`);
      removeOrphanFiles();
    }
    fs.mkdirSync(o.backing, { recursive: true });
    fs.mkdirSync(o.mountpoint, { recursive: true });
    const backing = fs.realpathSync(o.backing);
    const mountpoint = fs.realpathSync(o.mountpoint);
    checkDirs(backing, mountpoint);
    const install = await ensurePowerFs(log);
    const p = new PowerFs(backing, mountpoint, o.writeback ?? true, install.path, log);
    await p.start();
    return p;
  }

  /** The daemon's pid while mounted. */
  get pid(): number | undefined {
    return this.daemon?.running ? this.daemon.child.pid : undefined;
  }

  get mounted(): boolean {
    return this.daemon?.running === true;
  }

  private async start(): Promise<void> {
    this.daemon = await Daemon.start(this.bin, this.backing, this.mountpoint, this.writeback);
    // Ctrl-C: an orderly unmount, so that no dead mount is left behind. The daemon is not
    // one of the "brokers" SIGKILLed afterwards: a SIGKILLed FUSE daemon leaves a dead mount.
    this.unregister = onInterrupt(() => this.unmount());
    const d = this.daemon;
    void d.exited.then(() => {
      if (this.daemon === d) this.stopped();
    });
    this.log(`powerfs mounted at ${this.mountpoint} over ${this.backing} (pid ${this.daemon.child.pid}, ${this.writeback ? 'kernel write-back cache' : 'every write to the layer'})`);
  }

  private live(what: string): Daemon {
    if (!this.daemon?.running) {
      throw new BrokerError(`powerfs ${what}: ${this.mountpoint} is not mounted (cut or unmounted already; remount() first)`);
    }
    return this.daemon;
  }

  async stats(): Promise<PowerFsStats> {
    const reply = await request(this.live('stats').socket, { op: 'stats' });
    if (reply.ok !== true) throw new BrokerError(`powerfs stats failed: ${String(reply.error)}`);
    return {
      writeback: reply.writeback === true,
      unsyncedBytes: num(reply, 'unsyncedBytes'),
      dirtyFiles: num(reply, 'dirtyFiles'),
      writes: num(reply, 'writes'),
      fsyncs: num(reply, 'fsyncs'),
      bytesWritten: num(reply, 'bytesWritten'),
    };
  }

  /**
   * The kernel's periodic write-back (or sync(1)): every file is written back and synced,
   * and the mount stays. A harness calls it once a broker has started, so that a cut hits
   * the run, not the files written while installing and starting it (a real machine would
   * have written those back within ~30 s). Returns the bytes written back.
   */
  async sync(): Promise<number> {
    const reply = await request(this.live('sync').socket, { op: 'sync' });
    if (reply.ok !== true) throw new BrokerError(`powerfs sync failed: ${String(reply.error)}`);
    return num(reply, 'bytesWrittenBack');
  }

  /** The power failure; resolves once the daemon has unmounted and exited. */
  async cut(mode: PowerLossMode): Promise<PowerCut> {
    const daemon = this.live(`cut (${mode})`);
    if (mode === 'torn' && this.writeback) {
      throw new BusbenchError('USAGE', `powerfs cut (torn): ${this.mountpoint} runs with the kernel's write-back cache, whose page write-backs would be torn instead of the program's last write; mount it with writeback: false`);
    }
    const reply = await daemon.final({ op: 'cut', mode }, `cut (${mode})`);
    this.stopped();
    const torn = reply.tornFiles;
    return {
      mode,
      bytesDropped: num(reply, 'bytesDropped'),
      filesAffected: num(reply, 'filesAffected'),
      tornFiles: Array.isArray(torn) ? torn.map(String) : [],
    };
  }

  /** A fresh daemon on the same backing directory, after a cut. */
  async remount(): Promise<void> {
    if (this.daemon?.running) throw new BrokerError(`powerfs remount: ${this.mountpoint} is still mounted`);
    await this.start();
  }

  /** Orderly shutdown: everything written back and synced, then unmounted. Idempotent. */
  async unmount(): Promise<void> {
    const d = this.daemon;
    if (!d?.running) return;
    try {
      await d.final({ op: 'shutdown' }, 'unmount');
    } finally {
      this.stopped();
    }
  }

  private stopped(): void {
    this.unregister?.();
    this.unregister = undefined;
  }
}
