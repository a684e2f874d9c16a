/**
 * Ctrl-C and SIGTERM for programs that start brokers.
 *
 * Node's default for both signals is to die at once, and brokers run in their own process
 * group (so a terminal's Ctrl-C reaches only us): without a handler every broker would
 * outlive us. With `onInterrupt` the first signal runs the registered cleanups (stop the
 * run, delete streams, stop brokers gracefully), each bounded so that a hung broker cannot
 * hold the terminal; then every broker still alive gets SIGKILL, and the process exits
 * 130 (SIGINT) or 143 (SIGTERM), as a shell reports a death by that signal. A second
 * signal skips the cleanups.
 */
import { killAllBrokersSync, liveBrokers } from './processes.ts';

export type Cleanup = () => Promise<unknown>;

const EXIT_CODE: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };
const registered = new Map<Cleanup, number>();
let installed = false;
let interrupted = false;

/**
 * Registers `cleanup` to run on SIGINT/SIGTERM, for at most `timeoutMs` (default 10 s).
 * Returns a function that unregisters it (e.g. once the broker it stops is stopped).
 */
export function onInterrupt(cleanup: Cleanup, timeoutMs = 10_000): () => void {
  registered.set(cleanup, timeoutMs);
  if (!installed) {
    installed = true;
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void interrupt(sig));
  }
  return () => {
    registered.delete(cleanup);
  };
}

function bounded(cleanup: Cleanup, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([Promise.resolve().then(cleanup), late])
    .catch((err: unknown) => process.stderr.write(`busbench: cleanup failed: ${err instanceof Error ? err.message : String(err)}\n`))
    .finally(() => clearTimeout(timer));
}

async function interrupt(sig: 'SIGINT' | 'SIGTERM'): Promise<void> {
  const code = EXIT_CODE[sig];
  if (interrupted) {
    killAllBrokersSync();
    process.exit(code);
  }
  interrupted = true;
  await Promise.all([...registered].map(([cleanup, ms]) => bounded(cleanup, ms)));
  // SIGKILL whatever a cleanup did not stop, and wait until the kernel has reaped it, so
  // that its ports are free once we are gone.
  await Promise.all(liveBrokers().map((b) => b.kill9()));
  process.exit(code);
}
