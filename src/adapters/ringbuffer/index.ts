/**
 * The in-process ring buffer: SharedArrayBuffer rings between worker threads, coordinated
 * with Atomics. It needs no broker, so it shows what the harness itself can move and what
 * a message bus costs on top.
 *
 * Several producers: one single-producer single-consumer lane per producer, rather than
 * one ring where producers claim space with compare-and-swap. With lanes, a producer's
 * tail has one writer, so publishing is a plain Atomics.store; there is no CAS retry
 * under contention and no second "commit" index that a claim-then-fill ring needs so the
 * consumer does not read a claimed but unfilled slot. Per-producer order follows from
 * the structure. The cost: consumer c serves lanes l with l % consumers === c, so there
 * cannot be more consumers than producers, and one lane is never shared by two consumers.
 */
import type { Capabilities, OpenContext, SystemAdapter, SystemSession } from '../../core/contract.ts';
import { createDoorbells, createLane, frameBytes } from './layout.ts';
import { toCloneable } from './init.ts';
import { parseRingOptions } from './options.ts';

const CAPABILITIES: Capabilities = {
  // Memory only. A file-backed journal (see the extension point in lane-writer.ts) would
  // make this depend on the options.
  durable: false,
  // "Acked" means "written into the ring", reported by the producer inside send().
  acks: false,
  perProducerOrdering: true,
  deduplication: false,
  transactions: false,
  idempotencyRecord: 'offset',
};

export const adapter: SystemAdapter = {
  name: 'ringbuffer',
  description: 'in-process SharedArrayBuffer ring between worker threads, one SPSC lane per producer',

  parseOptions(raw: unknown, where: string): Record<string, unknown> {
    return { ...parseRingOptions(raw, where) };
  },

  capabilities(): Capabilities {
    return { ...CAPABILITIES };
  },

  async open(ctx: OpenContext): Promise<SystemSession> {
    // Already validated by parseOptions; parsing again recovers the typed form.
    const options = parseRingOptions(ctx.options, 'ringbuffer options');
    if (ctx.producers < 1 || ctx.consumers < 1) {
      throw new Error(`ringbuffer: needs at least one producer and one consumer (got ${ctx.producers} producers, ${ctx.consumers} consumers)`);
    }
    if (ctx.consumers > ctx.producers) {
      throw new Error(
        `ringbuffer: ${ctx.consumers} consumers for ${ctx.producers} producers; each producer has one lane and a lane has one consumer, ` +
          'so consumers must not outnumber producers',
      );
    }
    if (frameBytes(ctx.messageSize) > options.capacity) {
      throw new Error(`ringbuffer: a ${ctx.messageSize}-byte message does not fit in a lane of ${options.capacity} bytes (raise ringbuffer.capacity)`);
    }
    const padded = options.padding === 'on';
    const lanes = Array.from({ length: ctx.producers }, () => createLane(options.capacity, padded));
    const init = toCloneable({ lanes, doorbells: createDoorbells(ctx.consumers), consumers: ctx.consumers, padded, wait: options.wait });
    return {
      workerInit: init,
      config: { capacity: options.capacity, padding: options.padding, wait: options.wait, lanes: ctx.producers },
      // The memory goes when the last worker holding it ends.
      close: () => Promise.resolve(),
    };
  },
};
