/**
 * The ring buffer's main-thread side. Inline: every lane of every stage in shared memory,
 * nothing to start. The child mode's session, around the ring server process, is
 * ChildRingSession in child/session.ts.
 */
import type { OpenContext, SystemSession } from '../../core/contract.ts';
import { BusbenchError } from '../../core/errors.ts';
import { createDoorbells, createLane } from './layout.ts';
import type { RingInit } from './init.ts';
import { checkRun, type RingOptions } from './options.ts';
import { ChildRingSession } from './child/session.ts';

export class InlineRingSession implements SystemSession<RingInit> {
  readonly workerInit: RingInit;
  readonly config: Record<string, unknown>;

  constructor(ctx: OpenContext<RingOptions>, options: RingOptions, stages: number) {
    const padded = options.padding === 'on';
    const lanes = Array.from({ length: ctx.producers * stages }, () => createLane(options.capacity, padded));
    this.workerInit = {
      mode: 'inline',
      lanes,
      doorbells: createDoorbells(ctx.consumers * stages),
      producers: ctx.producers,
      consumers: ctx.consumers,
      stages,
      padded,
      wait: options.wait,
      dedup: options.dedup === 'on',
    };
    this.config = { process: 'inline', capacity: options.capacity, padding: options.padding, wait: options.wait, dedup: options.dedup, lanes: ctx.producers * stages, ...(stages > 1 ? { stages } : {}) };
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
  checkRun(options, { producers: ctx.producers, consumers: ctx.consumers, messageSize: ctx.messageSize, stages, brokers: ctx.brokers, ...(ctx.keys ? { keys: ctx.keys } : {}) }, 'ringbuffer options');
  if (ctx.producers < 1 || ctx.consumers < 1) {
    throw new BusbenchError('CONFIG', `ringbuffer: needs at least one producer and one consumer (got ${ctx.producers} producers, ${ctx.consumers} consumers)`);
  }
  // Refused here, not in checkRun: more consumers than producers is a run that fails
  // (the system's result says so and why), as the CLI's tests expect.
  if (ctx.consumers > ctx.producers) {
    throw new BusbenchError(
      'CONFIG',
      `ringbuffer: ${ctx.consumers} consumers for ${ctx.producers} producers; each producer has one lane and a lane has one consumer, ` +
        'so consumers must not outnumber producers',
    );
  }
  return options.process === 'child' ? ChildRingSession.open(ctx, options, stages) : new InlineRingSession(ctx, options, stages);
}
