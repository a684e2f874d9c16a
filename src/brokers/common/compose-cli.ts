/**
 * The docker compose CLI, for every service of the repository's docker-compose.yml.
 * Docker cannot run on the development machines, so this stays a thin, obvious layer.
 */
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BrokerError } from '../../core/errors.ts';

const run = promisify(execFile);

export const REPO_COMPOSE_FILE = fileURLToPath(new URL('../../../docker-compose.yml', import.meta.url));

export class ComposeCli {
  constructor(
    readonly file: string = REPO_COMPOSE_FILE,
    readonly project: string = 'busbench',
  ) {}

  private base(): string[] {
    return ['compose', '-f', this.file, '-p', this.project];
  }

  /** Runs `docker compose <args>`; a failure carries the services' log tail. */
  async run(what: string, services: string[], ...args: string[]): Promise<void> {
    try {
      await run('docker', [...this.base(), ...args, ...services], { timeout: 15 * 60_000, maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      const hint = e.code === 'ENOENT' ? ' (is the docker CLI installed?)' : '';
      throw new BrokerError(`${what}: docker compose ${[...args, ...services].join(' ')} failed${hint}: ${(e.stderr ?? e.message).trim()}`, this.logTail(services, 30), { cause: err });
    }
  }

  logTail(services: string[], lines: number): string {
    try {
      return execFileSync('docker', [...this.base(), 'logs', '--no-color', '--tail', String(lines), ...services], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 15_000,
      }).trimEnd();
    } catch {
      return '';
    }
  }
}
