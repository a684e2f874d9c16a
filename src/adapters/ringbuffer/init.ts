/**
 * What the main thread hands every worker (structured-cloned). Inline: the shared memory
 * of all lanes and doorbells, and the options that shape how it is read. Child: where the
 * ring server listens and how its lanes are numbered.
 *
 * Lanes are numbered stage * producers + origin producer in both modes: one lane per
 * origin producer per pipeline stage.
 */
import { BusbenchError } from '../../core/errors.ts';
import { WAIT_MODES, type WaitMode } from './waiting.ts';

export type InlineInit = {
  mode: 'inline';
  /** one SPSC lane per producer and stage, indexed by laneIndex() */
  lanes: SharedArrayBuffer[];
  /** one wake-up word per consumer and stage (layout.ts), indexed by stage * consumers + consumer */
  doorbells: SharedArrayBuffer;
  producers: number;
  consumers: number;
  stages: number;
  padded: boolean;
  wait: WaitMode;
  dedup: boolean;
};

export type ChildInit = {
  mode: 'child';
  host: string;
  port: number;
  producers: number;
  consumers: number;
  stages: number;
  /** payload bytes a lane holds; a publish is split so that each part fits */
  capacity: number;
  /** replicas: 2: both servers' client ports (port is the first); clients connect to whichever is the primary */
  ports?: number[];
};

export type RingInit = InlineInit | ChildInit;

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;

/** Checks the shape, so a wrong init fails with a clear message rather than deep in the hot path. */
export function checkedInit(init: RingInit): RingInit {
  const r: Partial<Record<keyof InlineInit | keyof ChildInit, unknown>> | null = init;
  const common = typeof r === 'object' && r !== null && isCount(r.producers) && isCount(r.consumers) && isCount(r.stages);
  const inline =
    common &&
    r.mode === 'inline' &&
    Array.isArray(r.lanes) &&
    r.lanes.length === (r.producers as number) * (r.stages as number) &&
    r.lanes.every((l) => l instanceof SharedArrayBuffer) &&
    r.doorbells instanceof SharedArrayBuffer &&
    typeof r.padded === 'boolean' &&
    typeof r.dedup === 'boolean' &&
    typeof r.wait === 'string' &&
    (WAIT_MODES as readonly string[]).includes(r.wait);
  const child = common && r.mode === 'child' && typeof r.host === 'string' && isCount(r.port) && isCount(r.capacity) && (r.ports === undefined || (Array.isArray(r.ports) && r.ports.every(isCount)));
  if (!inline && !child) throw new BusbenchError('ADAPTER', 'ringbuffer: worker init is not the one the ringbuffer adapter created');
  return init;
}

/** The lanes (within a stage) consumer `consumerId` serves: lane % consumers === consumerId. */
export function lanesOf(consumerId: number, consumers: number, lanes: number): number[] {
  const out: number[] = [];
  for (let l = consumerId; l < lanes; l += consumers) out.push(l);
  return out;
}

export function laneIndex(stage: number, originProducer: number, producers: number): number {
  return stage * producers + originProducer;
}

/** The stage of a spec, checked against the stages the ring was opened with. */
export function stageOf(spec: { stage?: number }, stages: number, who: string): number {
  const stage = spec.stage ?? 0;
  if (!Number.isInteger(stage) || stage < 0 || stage >= stages) {
    throw new BusbenchError('ADAPTER', `ringbuffer: ${who} is for stage ${stage}, but the ring was opened with ${stages} stage${stages === 1 ? '' : 's'} (0..${stages - 1})`);
  }
  return stage;
}

/** Where a child-mode client connects: the server, or either of the two replicas. */
export const clientPorts = (init: ChildInit): number | number[] => init.ports ?? init.port;
