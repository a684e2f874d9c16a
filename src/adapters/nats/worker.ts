/** NATS producers and consumers inside the harness's worker threads: one connection each. */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Cloneable, Consumer, Producer, WorkerSide } from '../../core/contract.ts';
import type { NatsWorkerInit } from './index.ts';
import { CorePublisher, FastPublisher, JsPublisher } from './producer.ts';
import { CoreSubscriber, PullConsumer } from './consumer.ts';

export function connectNats(servers: string[], name: string): Promise<NatsConnection> {
  // Reconnect forever and quickly: a killed broker comes back on the same ports.
  return connect({ servers, name, maxReconnectAttempts: -1, reconnectTimeWait: 100, noAsyncTraces: true, waitOnFirstConnect: true });
}

export const workerSide: WorkerSide = {
  async createProducer(initRaw: Cloneable, spec, acks): Promise<Producer> {
    const init = initRaw as unknown as NatsWorkerInit;
    const nc = await connectNats(init.servers, `busbench-p${spec.producerId}`);
    if (init.options.mode === 'core') return new CorePublisher(nc, init.subject, acks);
    const args = [nc, init.subject, init.options, acks, spec.maxInFlight, spec.producerId] as const;
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
    const c = new PullConsumer(nc, init.options.ackPolicy === 'explicit');
    await c.start(init.stream, init.durable, Math.max(1, Math.min(1000, Math.floor(init.options.maxAckPending / spec.consumers))));
    return c;
  },
};
