/**
 * One side of the clock ping-pong in clock.test.ts: waits for its turn on a shared word,
 * reads monoNs() and checks it is not before the time the other side wrote just before
 * handing over, writes its own read, and hands back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { calibration, monoNs } from '../../src/core/clock.ts';

export interface PingJob {
  /** Int32 turn word at index 0; Float64 times at byte 8: [last read, ...] */
  shared: SharedArrayBuffer;
  /** this side's turn value; it hands over with 1 - me */
  me: 0 | 1;
  rounds: number;
}

export interface PingReport {
  /** the worst (own read - other side's read written just before) seen: >= -(both errors) when the clocks agree */
  worstNs: number;
  errorNs: number;
}

const job = workerData as PingJob;
const turn = new Int32Array(job.shared, 0, 1);
const times = new Float64Array(job.shared, 8, 1);
let worst = Number.POSITIVE_INFINITY;
for (let r = 0; r < job.rounds; r++) {
  while (Atomics.load(turn, 0) !== job.me) Atomics.wait(turn, 0, 1 - job.me, 50);
  const now = monoNs();
  worst = Math.min(worst, now - times[0]!);
  times[0] = monoNs();
  Atomics.store(turn, 0, 1 - job.me);
  Atomics.notify(turn, 0);
}
const report: PingReport = { worstNs: worst, errorNs: calibration.errorNs };
parentPort!.postMessage(report);
