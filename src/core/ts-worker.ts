/**
 * Starts a worker thread running a TypeScript module, whether the harness itself runs
 * under tsx (the CLI) or under vitest: the bootstrap registers tsx inside the worker.
 */
import { Worker } from 'node:worker_threads';

const BOOTSTRAP = new URL('./ts-worker-bootstrap.mjs', import.meta.url);

// `object`, not an index signature: message interfaces such as WorkerStart pass without a cast
export function spawnTsWorker(entry: URL | string, workerData: object): Worker {
  return new Worker(BOOTSTRAP, {
    workerData: { ...workerData, __entry: entry.toString() },
    execArgv: [],
  });
}
