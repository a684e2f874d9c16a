/**
 * What the main thread hands every worker (structured-cloned). Inline: the shared memory
 * of all lanes and doorbells, and the options that shape how it is read. Child: where the
 * ring server listens and how its lanes are numbered.
 *
 * Lanes are numbered the same way in both modes (lanes.ts): one lane per origin producer,
 * partition and pipeline stage.
 */
import type { OpenContext } from '../../core/contract.ts';
import { BusbenchError } from '../../core/errors.ts';
import { NO_KEYS } from '../../core/keys.ts';
import { laneCount, type LaneShape } from './lanes.ts';
import type { RingRouting } from './routing.ts';
import { WAIT_MODES, type WaitMode } from './waiting.ts';

/** What both modes share: the lane numbering's shape and, with partitions, how messages are routed. */
type Common = {
  producers: number;
  consumers: number;
  stages: number;
  /** streams (`topics: N`); absent = 1 */
  topics?: number;
  /** present with more than one partition */
  routing?: RingRouting;
};

export type InlineInit = Common & {
  mode: 'inline';
  /** one SPSC lane per producer, partition and stage, indexed by laneIndex() (lanes.ts) */
  lanes: SharedArrayBuffer[];
  /** one wake-up word per consumer and stage (layout.ts), indexed by stage * consumers + consumer */
  doorbells: SharedArrayBuffer;
  padded: boolean;
  wait: WaitMode;
  dedup: boolean;
};

export type ChildInit = Common & {
  mode: 'child';
  host: string;
  port: number;
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
  const routing = r?.routing as Partial<RingRouting> | undefined;
  const common =
    typeof r === 'object' &&
    r !== null &&
    isCount(r.producers) &&
    isCount(r.consumers) &&
    isCount(r.stages) &&
    (r.topics === undefined || isCount(r.topics)) &&
    (routing === undefined || (typeof routing === 'object' && isCount(routing.plan?.count) && isCount(routing.plan?.chunk) && typeof routing.keys?.distribution === 'string'));
  const inline =
    common &&
    r.mode === 'inline' &&
    Array.isArray(r.lanes) &&
    r.lanes.length === laneCount(shapeOf(init)) &&
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

/** The lane numbering of an init (lanes.ts). */
export function shapeOf(init: Common): LaneShape {
  return {
    producers: init.producers,
    consumers: init.consumers,
    stages: init.stages,
    ...(init.routing ? { partitions: init.routing.plan.count } : {}),
    ...(init.topics !== undefined ? { topics: init.topics } : {}),
  };
}

/** The init's lane shape and routing (init.ts): routing only with more than one partition. */
export function routedShape(ctx: Pick<OpenContext, 'partitions' | 'keys'>, shape: LaneShape): Common {
  const routing = (shape.partitions ?? 1) > 1 && ctx.partitions ? { plan: ctx.partitions, keys: ctx.keys ?? NO_KEYS } : undefined;
  return { producers: shape.producers, consumers: shape.consumers, stages: shape.stages, ...(shape.topics !== undefined ? { topics: shape.topics } : {}), ...(routing ? { routing } : {}) };
}

/** What the result's config says of partitions and topics, present only where there are several. */
export function shapeConfig(shape: LaneShape): Record<string, number> {
  return { ...((shape.partitions ?? 1) > 1 ? { partitions: shape.partitions! } : {}), ...((shape.topics ?? 1) > 1 ? { topics: shape.topics! } : {}) };
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
