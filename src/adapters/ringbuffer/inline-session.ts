/** Opens the inline mode: every lane of every stage in shared memory, nothing to start. */
import type { OpenContext, SystemSession } from '../../core/contract.ts';
import { createDoorbells, createLane } from './layout.ts';
import type { RingInit } from './init.ts';
import type { RingOptions } from './options.ts';

export function openInline(ctx: OpenContext<RingOptions>, options: RingOptions, stages: number): SystemSession<RingInit> {
  const padded = options.padding === 'on';
  const lanes = Array.from({ length: ctx.producers * stages }, () => createLane(options.capacity, padded));
  const init: RingInit = {
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
  return {
    workerInit: init,
    config: { process: 'inline', capacity: options.capacity, padding: options.padding, wait: options.wait, dedup: options.dedup, lanes: ctx.producers * stages, ...(stages > 1 ? { stages } : {}) },
    // The lanes live in busbench's own memory and threads: no process of their own to measure.
    processes: () => [],
    // The memory goes when the last worker holding it ends.
    close: () => Promise.resolve(),
  };
}
