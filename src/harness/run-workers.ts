/**
 * Step 2 of a run: start the worker threads (consumers first, so nothing published is
 * missed; producers last) and wait until every one is connected and ready.
 */
import type { Worker } from 'node:worker_threads';
import { BusbenchError } from '../core/errors.ts';
import { spawnTsWorker } from '../core/ts-worker.ts';
import { createFirstSeen } from '../checks/first-seen.ts';
import { workerModuleUrl } from '../adapters/registry.ts';
import type { FromWorker, WorkerStart } from './protocol.ts';
import { forwardersOf, type RunContext } from './run-context.ts';

const WORKER_ENTRY = new URL('./worker/worker.ts', import.meta.url);
/** the first workers must be up before the clock starts: broker clients connect here */
const READY_TIMEOUT_MS = 120_000;

export type DoneMessage = FromWorker & { type: 'producer-done' | 'consumer-done' | 'forwarder-done' };

export interface WorkerHandle {
  worker: Worker;
  role: WorkerStart['role'];
  id: number;
  ready: Promise<void>;
  done: Promise<DoneMessage>;
}

interface RoleSpec {
  role: WorkerStart['role'];
  id: number;
  slot: number;
  stage: number;
  apply?: WorkerStart['apply'];
  firstSeen?: WorkerStart['firstSeen'];
}

function workerStart({ role, id, slot, stage, apply, firstSeen }: RoleSpec, run: RunContext): WorkerStart {
  return {
    role,
    id,
    slot,
    stage,
    ...(apply ? { apply } : {}),
    ...(firstSeen ? { firstSeen } : {}),
    system: run.spec.system,
    workerModule: run.spec.workerModule ?? workerModuleUrl(run.spec.system),
    init: run.session.workerInit,
    control: run.control.buffers,
    load: run.workerLoad,
  };
}

/** Interval reports go to the reducer as they come; the first error stops the run. */
function spawnRole(r: RoleSpec, run: RunContext): WorkerHandle {
  const { role, id } = r;
  const system = run.spec.system;
  const worker = spawnTsWorker(WORKER_ENTRY, workerStart(r, run));
  let readyResolve!: () => void;
  let doneResolve!: (m: DoneMessage) => void;
  let doneReject!: (e: Error) => void;
  const ready = new Promise<void>((res) => (readyResolve = res));
  const done = new Promise<DoneMessage>((res, rej) => {
    doneResolve = res;
    doneReject = rej;
  });
  done.catch(() => undefined);
  const failWith = (err: Error): void => {
    doneReject(err);
    run.fail(err);
  };
  worker.on('message', (m: FromWorker) => {
    if (m.type === 'ready') readyResolve();
    else if (m.type === 'interval') run.intervals.report({ kind: 'e2e', index: m.index, received: m.received, hist: m.hist });
    else if (m.type === 'send-interval') run.intervals.report({ kind: 'send-delay', index: m.index, received: m.sent, hist: m.sendDelay });
    else if (m.type === 'producer-done' || m.type === 'consumer-done' || m.type === 'forwarder-done') doneResolve(m);
    else if (m.type === 'error') failWith(new BusbenchError('ADAPTER', `${system} ${role} ${id}: ${m.message}`));
  });
  worker.on('error', (e) => failWith(new BusbenchError('ADAPTER', `${system} ${role} ${id} crashed: ${e.message}`)));
  worker.on('exit', (code) => doneReject(new BusbenchError('ADAPTER', `${system} ${role} ${id} exited (${code}) before reporting`)));
  return { worker, role, id, ready, done };
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, rej) => {
      timer = setTimeout(() => rej(new BusbenchError('ADAPTER', `${what} did not happen within ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]);
}

export async function startWorkers(run: RunContext): Promise<void> {
  const { spec, workers } = run;
  const { producers, consumers } = spec.load;
  const eo = spec.exactlyOnce;
  const forwarders = forwardersOf(spec);
  const apply = eo ? { guarantee: eo.guarantee, behaviour: eo.behaviour, accounts: eo.accounts, crashEveryMs: eo.crashEveryMs, capabilities: run.capabilities } : undefined;
  const lastStage = forwarders;
  const spawn = (r: RoleSpec): void => void workers.push(spawnRole(r, run));
  // Several consumers share which messages any of them had: each message counts once.
  const firstSeen = consumers > 1 ? createFirstSeen(producers) : undefined;
  for (let c = 0; c < consumers; c++) spawn({ role: 'consumer', id: c, slot: producers + c, stage: lastStage, apply, firstSeen });
  for (let f = 0; f < forwarders; f++) spawn({ role: 'forwarder', id: f, slot: producers + consumers + f, stage: f, apply });
  for (let p = 0; p < producers; p++) spawn({ role: 'producer', id: p, slot: p, stage: 0 });
  await withTimeout(
    Promise.race([Promise.all(workers.map((w) => w.ready)), ...workers.map((w) => w.done.then(() => undefined))]),
    READY_TIMEOUT_MS,
    'all workers ready',
  );
  if (run.failure) throw run.failure;
}
