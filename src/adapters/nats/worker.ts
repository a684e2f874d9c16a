/** NATS producers and consumers inside the harness's worker threads: one connection each. */
import type { Cloneable, Consumer, Producer, WorkerSide } from '../../core/contract.ts';
import type { NatsWorkerInit } from './index.ts';
import { connectNats } from './connection.ts';
import { CorePublisher, FastPublisher, JsPublisher } from './producer.ts';
import { CoreSubscriber, PullConsumer } from './consumer.ts';

/** pull batch per harness consumer: its share of max_ack_pending, at most 1000 */
export function prefetchFor(init: NatsWorkerInit, consumers: number): number {
  if (init.options.prefetch > 0) return init.options.prefetch;
  return Math.max(1, Math.min(1000, Math.floor(init.options.maxAckPending / consumers)));
}

export const workerSide: WorkerSide = {
  async createProducer(initRaw: Cloneable, spec, acks): Promise<Producer> {
    const init = initRaw as unknown as NatsWorkerInit;
    const nc = await connectNats(init.servers, `busbench-p${spec.producerId}`);
    if (init.options.mode === 'core') return new CorePublisher(nc, init.subject, acks);
    const args = [nc, init.subject, init.options, acks, spec.maxInFlight, spec.producerId, spec.control] as const;
    return init.options.publish === 'js' ? new JsPublisher(...args) : FastPublisher.create(...args);
  },

  async createConsumer(initRaw: Cloneable, spec): Promise<Consumer> {
    const init = initRaw as unknown as NatsWorkerInit;
    const nc = await connectNats(init.servers, `busbench-c${spec.consumerId}`);
    if (init.options.mode === 'core') {
      const c = new CoreSubscriber(nc);
      await c.start(init.subject);
      return c;
    }
    const c = new PullConsumer(nc, init.options.ackPolicy);
    try {
      await c.start(init.stream, init.durable, prefetchFor(init, spec.consumers));
    } catch (err) {
      await c.close();
      throw err;
    }
    return c;
  },
};
