/**
 * Worker entry for first-seen.test.ts: marks sequences 0..count-1 of every producer in a
 * shared FirstSeen, starting together with the other threads, and reports how many it
 * marked first.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FirstSeen } from '../../src/checks/first-seen.ts';

export interface MarkJob {
  buffers: SharedArrayBuffer[];
  count: number;
  /** Int32[0]: threads that arrived; each starts once all `threads` have */
  start: SharedArrayBuffer;
  threads: number;
}

const job = workerData as MarkJob;
const seen = new FirstSeen(job.buffers);
const firsts: number[] = job.buffers.map(() => 0);
const start = new Int32Array(job.start);
Atomics.add(start, 0, 1);
Atomics.notify(start, 0);
for (let n = Atomics.load(start, 0); n < job.threads; n = Atomics.load(start, 0)) Atomics.wait(start, 0, n, 1000);
// the same order in every thread: they race for the same words, and grow the buffers together
for (let seq = 0; seq < job.count; seq++) {
  for (let p = 0; p < job.buffers.length; p++) if (seen.mark(p, seq)) firsts[p]!++;
}
parentPort!.postMessage(firsts);
