/**
 * The figures the harness cannot give, because they are measured *without* its loops:
 * the ring's transport alone (pre-stamped batches, received without decoding), the
 * worker postMessage reference, and the false-sharing experiment on a lane's bare
 * control words. Each is a minimal raw loop pair on the harness's own Control (its
 * timeline, run states and counters); nothing here stands in for the harness's producer
 * or consumer loop, which ring-perf-harness.ts runs as they are.
 *
 * This file is also the entry of these raw workers (see the end).
 */
import { isMainThread, parentPort, workerData, type MessagePort, type Worker } from 'node:worker_threads';
import { monoNs } from '../src/core/clock.ts';
import type { Cloneable, OutboundBatch } from '../src/core/contract.ts';
import { encodeTemplate, readSentNs, stampBatch } from '../src/core/envelope.ts';
import { spawnTsWorker } from '../src/core/ts-worker.ts';
import { adapter } from '../src/adapters/ringbuffer/index.ts';
import { loadWorkerSide } from '../src/adapters/registry.ts';
import { RingConsumer } from '../src/adapters/ringbuffer/consumer.ts';
import { RingProducer } from '../src/adapters/ringbuffer/producer.ts';
import { createLane, openLane } from '../src/adapters/ringbuffer/layout.ts';
import { COUNTER_RECEIVED_UNIQUE, COUNTER_SENT, Control, STATE_DRAINING, STATE_STOP, type ControlBuffers } from '../src/harness/control.ts';
import { SIZE, spinNoise, WARMUP_MS, type Figure, type Noise } from './ring-perf-figures.ts';
import { machineTicks } from './ring-perf-probe.ts';
import { startProfile } from './ring-perf-side.ts';

/** Counter slots: the producing side's, then the consuming side's. */
/** the ring's worker side as the engine holds it (erased types): jobs carry a session's init as it was cloned */
const workerSide = await loadWorkerSide('ringbuffer');
const PRODUCER_SLOT = 0;
const CONSUMER_SLOT = 1;

interface JobBase {
  control: ControlBuffers;
  /** write a V8 CPU profile of the worker here ('' = none) */
  profileDir: string;
}

interface BareJob extends JobBase {
  kind: 'bare-producer' | 'bare-consumer';
  init: Cloneable;
  batch: number;
  /** the consumer reads each message's sent_ns (the cache line it sits on, written by the other core) */
  touch: boolean;
}

interface PostJob extends JobBase {
  kind: 'post-producer' | 'post-consumer';
}

/** One side of the bare false-sharing experiment on a lane's own control words. */
interface IndexJob extends JobBase {
  kind: 'index-producer' | 'index-consumer';
  lane: SharedArrayBuffer;
  padded: boolean;
}

/** A thread that only reads the clock, so that two of them show what the machine takes from a pair of spinning threads. */
interface SpinJob extends JobBase {
  kind: 'spin';
  seconds: number;
}

type Job = BareJob | PostJob | IndexJob | SpinJob;

interface Done {
  sent?: number;
  /** times this side went to sleep in Atomics.wait (wait mode block) */
  parks?: number;
  noise?: Noise;
}

type FromRaw = 'ready' | { done: Done };

const post = (m: FromRaw): void => parentPort!.postMessage(m);

/** Blocks a raw worker until the main thread has published the timeline (or stops). */
function awaitStart(control: Control): void {
  while (control.timeline().startNs === 0 && !control.stopping()) control.waitWhile(control.runState, 5);
}

/** Sends pre-stamped batches as fast as the ring takes them, until the window closes. */
async function bareProducer(job: BareJob, control: Control): Promise<Done> {
  let acked = 0;
  const producer = await workerSide.createProducer(
    job.init,
    { producerId: 0, messageSize: SIZE, maxInFlight: 1000, control },
    { acked: (_s, n) => (acked += n), failed: () => undefined, unknown: () => undefined, duplicate: () => undefined },
  );
  const staging = new Uint8Array(SIZE * job.batch);
  const template = encodeTemplate(SIZE, 0);
  for (let i = 0; i < job.batch; i++) staging.set(template, i * SIZE);
  const batch: { -readonly [K in keyof OutboundBatch]: OutboundBatch[K] } = { bytes: staging, size: SIZE, count: job.batch, producerId: 0, firstSeq: 0 };
  post('ready');
  awaitStart(control);
  const { startNs, measureEndNs } = control.timeline();
  stampBatch(staging, SIZE, job.batch, 0, startNs, Date.now());
  let seq = 0;
  while (monoNs() < measureEndNs && !control.stopping()) {
    batch.firstSeq = seq;
    producer.send(batch);
    seq += job.batch;
  }
  if (acked !== seq) throw new Error(`ring producer: ${seq} sent, ${acked} acked`);
  control.setCounter(PRODUCER_SLOT, COUNTER_SENT, seq);
  const parks = producer instanceof RingProducer ? producer.waiter.stats.parks : undefined;
  return { sent: seq, parks };
}

/** Receives and acks without decoding, until the drain has everything the producer sent. */
async function bareConsumer(job: BareJob, control: Control): Promise<Done> {
  const consumer = await workerSide.createConsumer(job.init, { consumerId: 0, consumers: 1, producers: 1, messageSize: SIZE, control });
  post('ready');
  awaitStart(control);
  const max = Math.max(job.batch, 64);
  let received = 0;
  let sum = 0;
  while (!control.stopping()) {
    const b = consumer.receive(max, 50);
    if (b instanceof Promise) throw new Error('the ring receives synchronously');
    if (b.count === 0) {
      if (control.runState === STATE_DRAINING && received >= control.counter(PRODUCER_SLOT, COUNTER_SENT)) break;
      continue;
    }
    if (job.touch) for (let i = 0; i < b.count; i++) sum += readSentNs(b.buffer(i), b.offset(i));
    consumer.ack(b);
    received += b.count;
    control.setCounter(CONSUMER_SLOT, COUNTER_RECEIVED_UNIQUE, received);
  }
  if (sum < 0) throw new Error('ring-perf: negative send times');
  return { parks: consumer instanceof RingConsumer ? consumer.waiter.stats.parks : undefined };
}

/** Credit window of the postMessage reference, so the channel's queue stays bounded. */
const POST_WINDOW = 4096;

function awaitPort(): Promise<MessagePort> {
  return new Promise((r) => parentPort!.once('message', (m: { port: MessagePort }) => r(m.port)));
}

async function postProducer(control: Control): Promise<Done> {
  const port = await awaitPort();
  const payload = new Uint8Array(SIZE).fill(0x78);
  post('ready');
  awaitStart(control);
  const { measureEndNs } = control.timeline();
  let sent = 0;
  for (;;) {
    if ((sent & 255) === 0 && (monoNs() >= measureEndNs || control.stopping())) break;
    while (sent - control.counter(CONSUMER_SLOT, COUNTER_RECEIVED_UNIQUE) >= POST_WINDOW) control.waitWhile(control.runState, 0.05);
    port.postMessage(payload);
    sent++;
  }
  port.close();
  return { sent };
}

async function postConsumer(control: Control): Promise<Done> {
  const port = await awaitPort();
  let received = 0;
  port.on('message', () => control.setCounter(CONSUMER_SLOT, COUNTER_RECEIVED_UNIQUE, ++received));
  post('ready');
  await new Promise<void>((r) => port.once('close', () => r()));
  return {};
}

/**
 * Stores its own index as fast as it can, and reads the other side's only once per 1024
 * stores, as a lane's sides do thanks to their cached copies of the other index (a
 * load per store would move the line between the cores whatever the layout: true
 * sharing). With padding off the two words share a cache line, which then moves
 * between the cores on every store: false sharing. Counts the stores in the window.
 */
async function indexSide(job: IndexJob, control: Control): Promise<Done> {
  const { words, at } = openLane(job.lane, job.padded);
  const mine = job.kind === 'index-producer' ? at.tail : at.head;
  const theirs = job.kind === 'index-producer' ? at.head : at.tail;
  post('ready');
  awaitStart(control);
  const { measureStartNs: from, measureEndNs: to } = control.timeline();
  let i = 0;
  let counted = 0;
  for (;;) {
    for (let k = 0; k < 1024; k++) Atomics.store(words, mine, ++i);
    Atomics.load(words, theirs);
    const now = monoNs();
    if (now >= to || control.stopping()) break;
    if (now >= from) counted += 1024;
  }
  return { sent: counted };
}

/** Spins through the warm-up (V8 optimizes the loop), then measures its gaps over the window. */
async function spinSide(job: SpinJob, control: Control): Promise<Done> {
  post('ready');
  awaitStart(control);
  const { measureStartNs } = control.timeline();
  return { noise: await spinNoise(job.seconds, machineTicks, measureStartNs - monoNs()) };
}

function runJob(job: Job, control: Control): Promise<Done> {
  switch (job.kind) {
    case 'spin':
      return spinSide(job, control);
    case 'bare-producer':
    case 'bare-consumer':
      return job.kind === 'bare-producer' ? bareProducer(job, control) : bareConsumer(job, control);
    case 'post-producer':
      return postProducer(control);
    case 'post-consumer':
      return postConsumer(control);
    case 'index-producer':
    case 'index-consumer':
      return indexSide(job, control);
  }
}

async function workerMain(job: Job): Promise<void> {
  const stopProfile = await startProfile(job.profileDir, job.kind);
  const done = await runJob(job, new Control(job.control));
  await stopProfile();
  post({ done });
}

// ---------------------------------------------------------------- main thread

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

interface Spawned {
  worker: Worker;
  ready: Promise<void>;
  done: Promise<Done>;
}

function spawn(job: Job): Spawned {
  const worker = spawnTsWorker(new URL(import.meta.url), { job });
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const done = new Promise<Done>((resolve, reject) => {
    worker.on('message', (m: FromRaw) => (m === 'ready' ? onReady() : resolve(m.done)));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`${job.kind} exited (${code}) before reporting`)));
  });
  return { worker, ready, done };
}

/**
 * Publishes the timeline, samples the consuming side's count across the measured window,
 * then lets the consumer drain what the producer sent and stops both.
 */
async function rawWindow(control: Control, producer: Spawned, consumer: Spawned, seconds: number): Promise<{ msgsPerSec: number; dones: [Done, Done] }> {
  try {
    await Promise.all([producer.ready, consumer.ready]);
    const startNs = monoNs() + 20e6;
    const measureStartNs = startNs + WARMUP_MS * 1e6;
    const measureEndNs = measureStartNs + seconds * 1e9;
    control.setTimeline({ startNs, measureStartNs, measureEndNs });
    control.setState(control.runState); // wake the waiters
    await sleep((measureStartNs - monoNs()) / 1e6);
    const c0 = control.counter(CONSUMER_SLOT, COUNTER_RECEIVED_UNIQUE);
    const t0 = monoNs();
    await sleep((measureEndNs - monoNs()) / 1e6);
    const c1 = control.counter(CONSUMER_SLOT, COUNTER_RECEIVED_UNIQUE);
    const t1 = monoNs();
    const stopTimer = setTimeout(() => control.setState(STATE_STOP), 10_000);
    try {
      const sent = await producer.done;
      control.setState(STATE_DRAINING);
      const dones: [Done, Done] = [sent, await consumer.done];
      return { msgsPerSec: ((c1 - c0) * 1e9) / (t1 - t0), dones };
    } finally {
      clearTimeout(stopTimer);
    }
  } finally {
    await Promise.all([producer.worker.terminate(), consumer.worker.terminate()]);
  }
}

export async function bareRingFigure(name: string, options: Record<string, unknown>, batch: number, seconds: number, profileDir: string | undefined, touch = false): Promise<Figure> {
  const session = await adapter.open({
    runId: 'ring-perf',
    runDir: '/tmp/busbench-ring-perf',
    producers: 1,
    consumers: 1,
    messageSize: SIZE,
    maxInFlight: 1000,
    brokers: 'native',
    externalUrls: {},
    options: adapter.parseOptions(options, 'bench/ring-perf.ts'),
    log: () => undefined,
  });
  try {
    const control = Control.create(2);
    const base = { control: control.buffers, profileDir: profileDir ?? '', init: session.workerInit, batch, touch };
    const consumer = spawn({ ...base, kind: 'bare-consumer' });
    const producer = spawn({ ...base, kind: 'bare-producer' });
    const { msgsPerSec, dones } = await rawWindow(control, producer, consumer, seconds);
    const c = session.config;
    const parks = c.wait === 'block' ? `; parks: consumer ${dones[1].parks ?? '?'}, producer ${dones[0].parks ?? '?'}` : '';
    return { name, msgsPerSec, note: `batch ${batch}, padding ${String(c.padding)}, wait ${String(c.wait)}, ${Number(c.capacity) >> 20} MiB${parks}` };
  } finally {
    await session.close();
  }
}

export async function postMessageFigure(seconds: number, profileDir: string | undefined): Promise<Figure> {
  const control = Control.create(2);
  const base = { control: control.buffers, profileDir: profileDir ?? '' };
  const consumer = spawn({ ...base, kind: 'post-consumer' });
  const producer = spawn({ ...base, kind: 'post-producer' });
  const { port1, port2 } = new MessageChannel();
  producer.worker.postMessage({ port: port1 }, [port1]);
  consumer.worker.postMessage({ port: port2 }, [port2]);
  const { msgsPerSec } = await rawWindow(control, producer, consumer, seconds);
  return { name: 'worker postMessage, 512 B payload', msgsPerSec, note: 'MessageChannel between two workers (structured clone)' };
}

/**
 * Two worker threads that do nothing but read the clock, no ring, no allocation, while
 * the main thread sleeps: what a pair of spinning threads loses on this machine whatever
 * they run, hence the p99 floor under the open loop's producer and consumer.
 */
export async function pairNoise(seconds: number): Promise<Noise[]> {
  const control = Control.create(2);
  const base = { control: control.buffers, profileDir: '', seconds };
  const a = spawn({ ...base, kind: 'spin' });
  const b = spawn({ ...base, kind: 'spin' });
  const { dones } = await rawWindow(control, a, b, seconds);
  return dones.map((d) => {
    if (!d.noise) throw new Error('ring-perf: a spinning thread reported no noise');
    return d.noise;
  });
}

export async function falseSharingFigure(padded: boolean, seconds: number, profileDir: string | undefined): Promise<Figure> {
  const control = Control.create(2);
  const lane = createLane(1024, padded);
  const base = { control: control.buffers, profileDir: profileDir ?? '', lane, padded };
  const consumer = spawn({ ...base, kind: 'index-consumer' });
  const producer = spawn({ ...base, kind: 'index-producer' });
  const { dones } = await rawWindow(control, producer, consumer, seconds);
  const perThread = dones.map((d) => (d.sent ?? 0) / (seconds * 1e3));
  return {
    name: `head/tail stores alone, padding ${padded ? 'on' : 'off'}`,
    msgsPerSec: ((dones[0].sent ?? 0) + (dones[1].sent ?? 0)) / seconds,
    note: `ops/ms per thread: ${perThread.map((x) => x.toFixed(0)).join(' and ')} (msg/s column: index stores/s, both threads)`,
  };
}

if (!isMainThread) {
  workerMain((workerData as { job: Job }).job).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
