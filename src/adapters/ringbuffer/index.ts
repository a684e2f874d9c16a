/**
 * The ring buffer, in one of two processes:
 *
 *   inline (default)  SharedArrayBuffer rings between worker threads, coordinated with
 *                     Atomics. It needs no broker, so it shows what the harness itself can
 *                     move and what a message bus costs on top. Memory only.
 *   child             a ring server process (server/) owns the lanes; producers and
 *                     consumers reach it over TCP on 127.0.0.1. There is a process to
 *                     kill -9, and with `journal: fsync` every lane is also an append-only
 *                     file, fsync'd before the producer's ack, so acknowledged messages
 *                     survive the kill.
 *
 * Several producers: one single-producer single-consumer lane per producer (and per
 * pipeline stage), rather than one ring where producers claim space with
 * compare-and-swap. With lanes, a producer's tail has one writer, so publishing is a
 * plain Atomics.store; there is no CAS retry under contention and no second "commit"
 * index that a claim-then-fill ring needs so the consumer does not read a claimed but
 * unfilled slot. Per-producer order follows from the structure. The cost: consumer c
 * serves lanes l with l % consumers === c, so there cannot be more consumers than
 * producers, and one lane is never shared by two consumers. With partitions or topics
 * each producer has a lane per partition and consumers split partitions and topics
 * instead (lanes.ts). The child mode keeps the same lanes and assignment, so the two
 * modes differ only in where the lanes live.
 */
import type { Capabilities, SystemAdapter } from '../../core/contract.ts';
import { checkRun, parseRingOptions, type RingOptions } from './options.ts';
import type { RingInit } from './init.ts';
import { openSession } from './session.ts';

export const adapter: SystemAdapter<RingOptions, RingInit> = {
  name: 'ringbuffer',
  description: 'SharedArrayBuffer ring between worker threads (or a ring server process with an fsync journal), one SPSC lane per producer',
  // in busbench's own process (inline) or a child it spawns: nothing to attach to
  needsBroker: false,
  parseOptions: parseRingOptions,

  capabilities(o: RingOptions): Capabilities {
    return {
      // Each append is fdatasync'd before its ack, and only the server process holds the
      // lanes otherwise: memory only without the journal.
      // Two replicas without the journal: an acked message is in both servers' memory, so
      // a kill -9 of either loses none, a power loss of the host all.
      durability: o.process !== 'child' ? 'none' : o.journal === 'fsync' ? 'power-loss' : o.replicas === 2 ? 'process-crash' : 'none',
      // Inline, "acked" means "written into the ring", reported by the producer inside
      // send(); the server acknowledges each publish once appended (and synced).
      acks: o.process === 'child',
      perProducerOrdering: true,
      deduplication: o.dedup === 'on',
      transactions: false,
      idempotencyRecord: 'offset',
    };
  },

  guaranteeOptions(guarantee): Record<string, unknown> {
    return { dedup: guarantee === 'exactly-once' ? 'on' : 'off' };
  },

  checkRun,

  open: openSession,
};
