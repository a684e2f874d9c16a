/**
 * How the report, compare and gate CLIs end: the exit code main returns, or for an error
 * one line on stderr and the code errors.ts assigns (bad input: 2). A stack trace only
 * for what is a bug in busbench, not for bad input.
 */
import { BusbenchError, exitCodeFor } from '../../core/errors.ts';

export function runCli(name: string, main: (argv: string[]) => Promise<number> | number): void {
  Promise.resolve()
    .then(() => main(process.argv.slice(2)))
    .then(
      (code) => {
        process.exitCode = code;
      },
      (err: unknown) => {
        const msg = err instanceof Error ? err.message : String(err);
        process.stderr.write(`${name}: ${msg}\n`);
        if (!(err instanceof BusbenchError) && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
        process.exitCode = exitCodeFor(err);
      },
    );
}
