/**
 * The ring buffer's main-thread side. Inline: every lane of every stage in shared memory,
 * nothing to start. The child mode's session, around the ring server process, is
 * ChildRingSession in child/session.ts.
 */
import type { OpenContext, SystemSession } from '../../core/contract.ts';
import { BusbenchError } from '../../core/errors.ts';
import { createDoorbells, createLane } from './layout.ts';
import { routedShape, shapeConfig, type RingInit } from './init.ts';
import { checkedShape, laneCount, type LaneShape } from './lanes.ts';
import { checkRun, type RingOptions } from './options.ts';
import { ChildRingSession } from './child/session.ts';

export class InlineRingSession implements SystemSession<RingInit> {
  readonly workerInit: RingInit;
  readonly config: Record<string, unknown>;

  constructor(ctx: OpenContext<RingOptions>, options: RingOptions, shape: LaneShape) {
    const padded = options.padding === 'on';
    const stages = shape.stages;
    const lanes = Array.from({ length: laneCount(shape) }, () => createLane(options.capacity, padded));
    this.workerInit = {
      mode: 'inline',
      lanes,
      doorbells: createDoorbells(ctx.consumers * stages),
      ...routedShape(ctx, shape),
      padded,
      wait: options.wait,
      dedup: options.dedup === 'on',
    };
    this.config = { process: 'inline', capacity: options.capacity, padding: options.padding, wait: options.wait, dedup: options.dedup, lanes: lanes.length, ...(stages > 1 ? { stages } : {}), ...shapeConfig(shape) };
  }

  /** The lanes live in busbench's own memory and threads: no process of their own to measure. */
  processes(): Array<{ name: string; pid: number }> {
    return [];
  }

  /** The memory goes when the last worker holding it ends. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

export async function openSession(ctx: OpenContext<RingOptions>): Promise<SystemSession<RingInit>> {
  const options = ctx.options;
  const stages = ctx.stages ?? 1;
  const partitions = ctx.partitions?.count ?? 1;
  checkRun(options, { producers: ctx.producers, consumers: ctx.consumers, messageSize: ctx.messageSize, stages, brokers: ctx.brokers, ...(ctx.keys ? { keys: ctx.keys } : {}), partitions, ...(ctx.topics ? { topics: ctx.topics } : {}) }, 'ringbuffer options');
  if (ctx.producers < 1 || ctx.consumers < 1) {
    throw new BusbenchError('CONFIG', `ringbuffer: needs at least one producer and one consumer (got ${ctx.producers} producers, ${ctx.consumers} consumers)`);
  }
  // Refused here, not in checkRun: a lane shape no consumer set can read (more consumers
  // than producers, say) is a run that fails (the system's result says so and why), as
  // the CLI's tests expect.
  const topics = ctx.topics ?? 1;
  const shape = checkedShape({ producers: ctx.producers, consumers: ctx.consumers, stages, ...(partitions > 1 ? { partitions } : {}), ...(topics > 1 ? { topics } : {}) });
  return options.process === 'child' ? ChildRingSession.open(ctx, options, shape) : new InlineRingSession(ctx, options, shape);
}
