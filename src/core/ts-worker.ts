/**
 * Starts a worker thread running a TypeScript module, whether the harness itself runs
 * under tsx (the CLI) or under vitest: the bootstrap registers tsx inside the worker.
 */
import { Worker } from 'node:worker_threads';

const BOOTSTRAP = new URL('./ts-worker-bootstrap.mjs', import.meta.url);

export function spawnTsWorker(entry: URL | string, workerData: Record<string, unknown>): Worker {
  return new Worker(BOOTSTRAP, {
    workerData: { ...workerData, __entry: entry.toString() },
    execArgv: [],
  });
}
