/**
 * Broker processes the harness starts, and the guarantee that none outlives the run.
 *
 * Every child is registered here. On normal exit, on an uncaught error and on Ctrl-C or
 * SIGTERM (see `onInterrupt` in signals.ts) all registered children get SIGKILL. A harness that
 * is itself killed with -9 cannot clean up, so each child's pid is also written to a pid
 * file; the next run reaps children whose harness is gone (`reapOrphans`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const PID_DIR = path.join(process.env.BUSBENCH_CACHE ?? path.join(os.homedir(), '.cache', 'busbench'), 'pids');

export interface SpawnOptions {
  /** short name for messages and the pid file, e.g. "nats-1" */
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here */
  logFile: string;
}

export class BrokerProcess {
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
    private readonly pidFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? null : 0);
        live.delete(this);
        fs.rmSync(this.pidFile, { force: true });
        resolve(this.exitCode);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill9(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  logTail(lines = 30): string {
    return tailOfFile(this.logFile, lines);
  }
}

const live = new Set<BrokerProcess>();

export function spawnBroker(opts: SpawnOptions): BrokerProcess {
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  fs.mkdirSync(PID_DIR, { recursive: true });
  const out = fs.openSync(opts.logFile, 'a');
  const child = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', out, out],
    // Own process group: Ctrl-C in the terminal reaches the harness only, which then
    // stops brokers in order instead of every process dying at once.
    detached: true,
  });
  fs.closeSync(out);
  const pidFile = path.join(PID_DIR, `${process.pid}-${child.pid ?? 'x'}-${opts.name}.pid`);
  const proc = new BrokerProcess(opts.name, child, opts.logFile, pidFile);
  if (child.pid !== undefined) {
    fs.writeFileSync(pidFile, `${child.pid}\n${opts.command}\n`);
    live.add(proc);
  }
  child.once('error', () => undefined); // surfaced through `exited` and the log
  return proc;
}

/** Every broker process this harness started that is still running. */
export function liveBrokers(): BrokerProcess[] {
  return [...live];
}

export function killAllBrokersSync(): void {
  for (const p of live) {
    try {
      p.child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Kills brokers left behind by a harness that died without cleaning up (kill -9 of the
 * harness itself). Pid files are named <harnessPid>-<childPid>-<name>.pid; a child is
 * reaped only if its harness is gone and the pid still runs the recorded command.
 */
export function reapOrphans(): string[] {
  if (!fs.existsSync(PID_DIR)) return [];
  const reaped: string[] = [];
  for (const file of fs.readdirSync(PID_DIR)) {
    const m = /^(\d+)-(\d+)-(.+)\.pid$/.exec(file);
    if (!m) continue;
    const harnessPid = Number(m[1]);
    const childPid = Number(m[2]);
    const full = path.join(PID_DIR, file);
    if (harnessPid === process.pid || isAlive(harnessPid)) continue;
    const command = fs.readFileSync(full, 'utf8').split('\n')[1] ?? '';
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${childPid}/cmdline`, 'utf8');
    } catch {
      /* not running */
    }
    if (cmdline && command && cmdline.includes(path.basename(command))) {
      try {
        process.kill(childPid, 'SIGKILL');
        reaped.push(`${m[3]} (pid ${childPid})`);
      } catch {
        /* raced with its exit */
      }
    }
    fs.rmSync(full, { force: true });
  }
  return reaped;
}

export function tailOfFile(file: string, lines: number): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** 0 when the file is missing: a log not written yet. */
export function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** The file from byte `offset` on ('' when it is missing). */
export function readFrom(file: string, offset: number): string {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const length = Math.max(0, fs.fstatSync(fd).size - offset);
    const buf = Buffer.alloc(length);
    const n = fs.readSync(fd, buf, 0, length, offset);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

process.once('exit', killAllBrokersSync);
