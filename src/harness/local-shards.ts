/**
 * --processes N: N shards of one run as child processes of this one, each the bench CLI
 * with --shard i/N and one --start-at, each writing its result into a folder of its own.
 * The children are this process's: a signal here is passed on to them, a second one kills
 * them, and a child whose parent is gone (even by kill -9) sees its IPC channel close and
 * stops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BusbenchError } from '../core/errors.ts';

const children = new Set<ChildProcess>();

/** Kills every child still running, now (a second Ctrl-C, or this process failing). */
export function killShardsSync(): void {
  for (const c of children) c.kill('SIGKILL');
}

/** The flags a child must not inherit: the parent sets them per child, or keeps them for itself. */
const PARENT_ONLY = ['processes', 'out', 'start-at', 'json', 'shard'];
const BOOLEAN = new Set(['json', 'help']);

/** `argv` without the parent's own flags (and `drop`'s), in either --flag value or --flag=value form. */
export function childArgv(argv: readonly string[], drop: readonly string[] = []): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.startsWith('--') ? a.slice(2).split('=')[0]! : '';
    if (!PARENT_ONLY.includes(name) && !drop.includes(name)) {
      out.push(a);
      continue;
    }
    if (!a.includes('=') && !BOOLEAN.has(name)) i++;
  }
  return out;
}

export interface LocalShardsPlan {
  count: number;
  startAt: string;
  /** the bench command line as given */
  argv: readonly string[];
  /** shard i writes under <outDir>/shard-<i>/ */
  outDir: string;
  log: (line: string) => void;
  signal: AbortSignal;
  /** the script each child runs with the shard's flags: this process's own (process.argv[1]) unless a test gives another */
  entry?: string;
}

/** One child: its stderr forwarded line by line, its result file named on its stdout. */
function runChild(plan: LocalShardsPlan, index: number): Promise<string> {
  const out = path.join(plan.outDir, `shard-${index}`);
  fs.mkdirSync(out, { recursive: true });
  const args = [...process.execArgv, plan.entry ?? process.argv[1]!, ...childArgv(plan.argv), '--shard', `${index}/${plan.count}`, '--start-at', plan.startAt, '--out', out];
  // A process group of its own: a terminal's Ctrl-C reaches the parent alone, which passes
  // one SIGTERM on; a child signalled twice would exit at once, leaving its stream on the broker.
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
  children.add(child);
  plan.log(`shard ${index}/${plan.count}: pid ${child.pid}`);
  let stdout = '';
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) plan.log(`[shard ${index}] ${l}`);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, sig) => {
      children.delete(child);
      if (partial.trim()) plan.log(`[shard ${index}] ${partial}`);
      const file = /^result: (.+)$/m.exec(stdout)?.[1]?.trim();
      // exit 1 is a run with findings: its result is as mergeable as a clean one
      if ((code === 0 || code === 1) && file) return resolve(path.resolve(file));
      if (plan.signal.aborted) return reject(new BusbenchError('INTERRUPTED', 'interrupted'));
      reject(new BusbenchError('ADAPTER', `shard ${index}/${plan.count} ended with ${sig ?? `exit code ${code}`} and no result`));
    });
  });
}

/** Runs every shard to its end; the result files in shard order. */
export async function runLocalShards(plan: LocalShardsPlan): Promise<string[]> {
  // Once only: a child signalled twice exits at once, without deleting its stream. The
  // first child to stop after an abort rejects its run, which calls forward() again while
  // the others are still closing (a stream left on the broker under load, 2026-12-02 CI).
  let forwarded = false;
  const forward = (): void => {
    if (forwarded) return;
    forwarded = true;
    for (const c of children) c.kill('SIGTERM');
  };
  plan.signal.addEventListener('abort', forward);
  try {
    let first: unknown;
    // one shard failing leaves nothing to merge: the others stop too, and its error is the run's
    const runs = Array.from({ length: plan.count }, (_, i) =>
      runChild(plan, i).catch((e: unknown) => {
        first ??= e;
        forward();
        throw e;
      }),
    );
    const settled = await Promise.allSettled(runs);
    if (first !== undefined) throw first;
    return settled.map((s) => (s as PromiseFulfilledResult<string>).value);
  } finally {
    plan.signal.removeEventListener('abort', forward);
    killShardsSync();
  }
}

/**
 * The shards' command line against a broker the parent started for them: each attaches
 * to it as to an external one (the parent's --brokers and --url replaced).
 */
export function sharedBrokerArgv(argv: readonly string[], system: string, url: string): string[] {
  return [...childArgv(argv, ['brokers', 'url']), '--brokers', 'external', '--url', `${system}=${url}`];
}

/** In a child: the parent gone (its IPC channel closed) is an interrupt. */
export function stopWithParent(onGone: () => void): void {
  if (!process.send) return;
  process.on('disconnect', onGone);
  // its pipes went with the parent: a line written to them must not end the cleanup (EPIPE)
  for (const s of [process.stdout, process.stderr]) s.on('error', () => undefined);
  // the channel must not keep a finished child alive
  process.channel?.unref();
}
