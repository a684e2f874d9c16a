/**
 * Entry point of every load-generating worker thread: one producer, one consumer, or one
 * middle stage of a pipeline.
 *
 * Plain worker_threads rather than a piscina pool: producers and consumers are
 * long-running loops that live for the whole run and share memory with the runner,
 * not short tasks to queue; a task pool would only add a dispatch hop on the hot path.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ConsumerSpec, Forwarder } from '../../core/contract.ts';
import { Control } from '../control.ts';
import { runConsumer, type ApplyContext } from './consumer-loop.ts';
import { runProducer } from './producer-loop.ts';
import { ProducingForwarder, runForwarder } from './forward-loop.ts';
import { AccountState } from './account-state.ts';
import type { FromWorker, WorkerStart } from '../protocol.ts';
import type { PackedSparse } from '../../core/histogram.ts';
import { workerSideAt, type ErasedWorkerSide } from '../../adapters/registry.ts';

const start = workerData as WorkerStart;
/**
 * Most messages a middle stage forwards at once. A forward costs round trips whatever it
 * holds (a transaction's to its coordinator, or waiting for the downstream acks), so a
 * stage takes whatever waits, up to about a prefetch queue; one that keeps up still
 * forwards small batches. The same for both guarantees, so their costs compare.
 */
const FORWARD_MAX_BATCH = 1000;
const port = parentPort!;
const post = (m: FromWorker): void => port.postMessage(m);
/**
 * An interval report, its snapshot's arrays moved rather than copied: toPacked made them
 * for this message alone (in plain ArrayBuffers: shared memory could not be moved), and
 * a moved buffer costs the runner's main thread nothing to receive (a copied one, ~150 KB
 * at 1 M msg/s, half its cost of taking a report in).
 */
const postMoving = (m: FromWorker, s: PackedSparse): void => port.postMessage(m, [s.idx.buffer as ArrayBuffer, s.cnt.buffer as ArrayBuffer]);

async function runProducerRole(side: ErasedWorkerSide, control: Control): Promise<void> {
  const load = start.load;
  const out = await runProducer(
    start.id,
    start.slot,
    control,
    load,
    (acks) => side.createProducer(start.init, { producerId: start.id, stage: 0, messageSize: load.messageSize, maxInFlight: load.maxInFlight, control }, acks),
    () => post({ type: 'ready' }),
    (index, sent, sendDelay) => {
      const packed = sendDelay.toPacked();
      postMoving({ type: 'send-interval', index, sent, sendDelay: packed }, packed);
    },
  );
  post({
    type: 'producer-done',
    ledger: out.ledger.snapshot(),
    publish: out.publish.toSparse(),
    publishMissed: out.publishMissed,
    resent: out.ledger.resent,
    sendDelay: out.sendDelay.toSparse(),
    intended: out.intended,
    sentInWindow: out.sentInWindow,
  });
}

async function runForwarderRole(side: ErasedWorkerSide, control: Control, consumerSpec: ConsumerSpec): Promise<void> {
  const load = start.load;
  // Transactions only where the run's configuration turned them on (capabilities).
  const eo = start.apply;
  const transactional = eo?.guarantee === 'exactly-once' && eo.capabilities.transactions && side.createForwarder ? side.createForwarder.bind(side) : undefined;
  const open = (): Promise<Forwarder> =>
    transactional
      ? transactional(start.init, consumerSpec)
      : ProducingForwarder.open(
          () => side.createConsumer(start.init, consumerSpec),
          (acks) => side.createProducer(start.init, { producerId: start.id, stage: start.stage + 1, messageSize: load.messageSize, maxInFlight: load.maxInFlight, control }, acks),
        );
  // Connect once before reporting ready, so the clock starts with every stage up.
  await (await open()).close();
  post({ type: 'ready' });
  const out = await runForwarder(start.slot, control, open, start.apply?.crashEveryMs ?? 0, FORWARD_MAX_BATCH);
  post({ type: 'forwarder-done', stage: start.stage, ...out });
}

async function runConsumerRole(side: ErasedWorkerSide, control: Control, consumerSpec: ConsumerSpec): Promise<void> {
  const consumer = await side.createConsumer(start.init, consumerSpec);
  const settings = start.apply;
  const state = settings ? new AccountState(settings.accounts, settings.guarantee, settings.capabilities, settings.behaviour) : undefined;
  const apply: ApplyContext | undefined =
    settings && state ? { state, crashEveryMs: settings.crashEveryMs, reconnect: () => side.createConsumer(start.init, consumerSpec) } : undefined;
  post({ type: 'ready' });
  const out = await runConsumer(
    start.id,
    start.slot,
    control,
    start.load,
    consumer,
    (index, received, hist) => {
      const packed = hist.toPacked();
      postMoving({ type: 'interval', index, received, hist: packed }, packed);
    },
    apply,
    start.firstSeen,
  );
  post({
    type: 'consumer-done',
    ledger: out.ledger.snapshot(),
    e2e: out.e2e.toSparse(),
    redelivery: out.redelivery.toSparse(),
    receivedInWindow: out.receivedInWindow,
    bytesInWindow: out.bytesInWindow,
    repeatsInWindow: out.repeatsInWindow,
    crashes: out.crashes,
    ...(out.drainPhase.total > 0 ? { drainPhase: out.drainPhase.toSparse() } : {}),
    ...(out.discarded ? { discarded: out.discarded } : {}),
    ...(state ? { applied: state.ledger.snapshot(state.balances, state.skipped), record: state.recordName } : {}),
  });
}

async function main(): Promise<void> {
  const side = await workerSideAt(start.workerModule);
  const control = new Control(start.control);
  const load = start.load;
  const consumerSpec: ConsumerSpec = {
    // each stage has its own group of consumers; a middle stage has exactly one
    consumerId: start.role === 'forwarder' ? 0 : start.id,
    stage: start.stage,
    consumers: load.consumers,
    producers: load.producers,
    messageSize: load.messageSize,
    control,
  };
  if (start.role === 'producer') await runProducerRole(side, control);
  else if (start.role === 'forwarder') await runForwarderRole(side, control, consumerSpec);
  else await runConsumerRole(side, control, consumerSpec);
}

// The runner terminates this thread once it has the final report; closing the port
// here could drop that report.
main().catch((err: unknown) => {
  const e = err instanceof Error ? err : new Error(String(err));
  post({ type: 'error', message: e.message, stack: e.stack });
});
