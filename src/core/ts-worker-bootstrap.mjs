// Plain JavaScript on purpose: a worker thread does not inherit a TypeScript loader
// reliably (hooks registered with --import apply too late for the worker's own entry
// module), so each worker registers tsx itself, then imports the real TypeScript entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.__entry);
