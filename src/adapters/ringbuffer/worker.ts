/**
 * Worker-thread half of the ring buffer: producers and consumers over the shared lanes
 * (inline) or TCP clients of the ring server (child), as the session's init says.
 */
import type { AckSink, Consumer, ConsumerSpec, Producer, ProducerSpec, WorkerSide } from '../../core/contract.ts';
import { checkedInit, type RingInit } from './init.ts';
import { createInlineConsumer, createInlineProducer } from './inline-side.ts';
import { ChildProducer } from './child/producer-client.ts';
import { ChildConsumer } from './child/consumer-client.ts';

/** Longer than a fault's downtime plus a restart: a client created meanwhile still connects. */
const CONNECT_TIMEOUT_MS = 30_000;

export const workerSide: WorkerSide<RingInit> = {
  async createProducer(raw: RingInit, spec: ProducerSpec, acks: AckSink): Promise<Producer> {
    const init = checkedInit(raw);
    if (init.mode === 'inline') return createInlineProducer(init, spec, acks);
    const p = new ChildProducer(init, spec, acks);
    await p.connected(CONNECT_TIMEOUT_MS);
    return p;
  },

  async createConsumer(raw: RingInit, spec: ConsumerSpec): Promise<Consumer> {
    const init = checkedInit(raw);
    if (init.mode === 'inline') return createInlineConsumer(init, spec);
    const c = new ChildConsumer(init, spec);
    await c.connected(CONNECT_TIMEOUT_MS);
    return c;
  },
};
