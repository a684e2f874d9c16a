/**
 * Entry point of every load-generating worker thread: one producer or one consumer.
 *
 * Plain worker_threads rather than a piscina pool: producers and consumers are
 * long-running loops that live for the whole run and share memory with the runner,
 * not short tasks to queue; a task pool would only add a dispatch hop on the hot path.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerSide } from '../core/contract.ts';
import { Control } from './control.ts';
import { runConsumer } from './consumer-loop.ts';
import { runProducer } from './producer-loop.ts';
import type { FromWorker, WorkerStart } from './protocol.ts';

const start = workerData as WorkerStart;
const port = parentPort!;
const post = (m: FromWorker): void => port.postMessage(m);

async function main(): Promise<void> {
  const side = ((await import(start.workerModule)) as { workerSide: WorkerSide }).workerSide;
  const control = new Control(start.control);
  if (start.role === 'producer') {
    const out = await runProducer(
      start.id,
      start.slot,
      control,
      start.load,
      (acks) =>
        side.createProducer(start.init, { producerId: start.id, messageSize: start.load.messageSize, maxInFlight: start.load.maxInFlight, control }, acks),
      () => post({ type: 'ready' }),
    );
    post({ type: 'producer-done', ledger: out.ledger.snapshot(), publish: out.publish.toSparse(), publishMissed: out.publishMissed });
  } else {
    const consumer = await side.createConsumer(start.init, {
      consumerId: start.id,
      consumers: start.load.consumers,
      producers: start.load.producers,
      messageSize: start.load.messageSize,
      control,
    });
    post({ type: 'ready' });
    const out = await runConsumer(start.id, start.slot, control, start.load, consumer, (index, received, hist) =>
      post({ type: 'interval', index, received, hist: hist.toSparse() }),
    );
    post({ type: 'consumer-done', ledger: out.ledger.snapshot(), e2e: out.e2e.toSparse(), receivedInWindow: out.receivedInWindow });
  }
}

// The runner terminates this thread once it has the final report; closing the port
// here could drop that report.
main().catch((err: unknown) => {
  const e = err instanceof Error ? err : new Error(String(err));
  post({ type: 'error', message: e.message, stack: e.stack });
});
