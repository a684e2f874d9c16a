/** NATS producers and consumers inside the harness's worker threads: one connection each. */
import type { Consumer, Producer, WorkerSide } from '../../core/contract.ts';
import type { NatsWorkerInit } from './init.ts';
import type { RunStream } from './stream.ts';
import { closeConnection, connectNats } from './connection.ts';
import { AckConfirmer } from './ack-confirm.ts';
import { CorePublisher, FastPublisher, JsPublisher } from './producer.ts';
import { CoreSubscriber, PullConsumer } from './consumer.ts';
import { durableOf, partitionsOfConsumer } from './partitions.ts';
import { consumersOfTopic, topicOfConsumer, topicOfProducer } from '../../core/topics.ts';

/** pull batch per harness consumer: its share of max_ack_pending, at most 1000 */
function prefetchFor(init: NatsWorkerInit, consumers: number): number {
  if (init.options.prefetch > 0) return init.options.prefetch;
  return Math.max(1, Math.min(1000, Math.floor(init.options.maxAckPending / consumers)));
}

/** A producer's stream: its topic's at stage 0 (producer p writes topic p mod topics), else its stage's. */
function producerStream(init: NatsWorkerInit, producerId: number, stage = 0): RunStream {
  return init.topics && stage === 0 ? init.topics[topicOfProducer(producerId, init.topics.length)]! : stageOf(init, stage);
}

/**
 * A consumer's stream, and its place among the consumers sharing it: with topics,
 * consumer c reads topic c mod topics as the (c div topics)-th of that topic's readers.
 */
function consumerStream(init: NatsWorkerInit, consumerId: number, consumers: number, stage = 0): { names: RunStream; index: number; readers: number } {
  if (!init.topics || stage !== 0) return { names: stageOf(init, stage), index: consumerId, readers: consumers };
  const n = init.topics.length;
  const t = topicOfConsumer(consumerId, n);
  return { names: init.topics[t]!, index: Math.floor(consumerId / n), readers: consumersOfTopic(t, consumers, n) };
}

function stageOf(init: NatsWorkerInit, stage = 0): RunStream {
  const names = init.stages[stage];
  if (!names) throw new Error(`nats: stage ${stage} does not exist (the run has ${init.stages.length})`);
  return names;
}

export const workerSide: WorkerSide<NatsWorkerInit> = {
  async createProducer(init, spec, acks): Promise<Producer> {
    const names = producerStream(init, spec.producerId, spec.stage);
    const nc = await connectNats(init.servers, `busbench-p${spec.producerId}`);
    if (init.options.mode === 'core') return new CorePublisher(nc, names.subject, acks);
    // no spec.producerId: a message id names the batch's origin producer, not this one
    // partitions and keys route stage 0's messages only (checkRun refuses them with stages)
    const routing = (spec.stage ?? 0) === 0 ? init.routing : undefined;
    const args = [nc, names.subject, init.options, acks, spec.maxInFlight, spec.control, routing] as const;
    return init.options.publish === 'js' ? new JsPublisher(...args) : FastPublisher.create(...args);
  },

  async createConsumer(init, spec): Promise<Consumer> {
    const { names, index, readers } = consumerStream(init, spec.consumerId, spec.consumers, spec.stage);
    const nc = await connectNats(init.servers, `busbench-c${spec.consumerId}`);
    if (init.options.mode === 'core') {
      const c = new CoreSubscriber(nc);
      await c.start(names.subject);
      return c;
    }
    let c: PullConsumer | undefined;
    try {
      const o = init.options;
      const confirmer = o.doubleAck && o.ackPolicy !== 'none' ? await AckConfirmer.create(nc, o.ackTimeoutMs) : undefined;
      const routing = (spec.stage ?? 0) === 0 ? init.routing : undefined;
      const partitions = routing?.plan.count ?? 1;
      // with partitions, the subject names each message's partition: the ledger orders by it
      c = new PullConsumer(nc, o.ackPolicy, confirmer, spec.control, partitions > 1 ? `${names.subject}.p`.length : undefined);
      c.ackWaitMs = o.ackWaitMs;
      const mine = partitions > 1 ? partitionsOfConsumer(index, readers, partitions) : [0];
      // the consumer's pull batch is shared by the durables it reads
      const prefetch = Math.max(1, Math.floor(prefetchFor(init, readers) / mine.length));
      for (const p of mine) await c.start(names.stream, durableOf(names.durable, p, partitions), prefetch);
    } catch (err) {
      if (c) await c.close();
      else await closeConnection(nc);
      throw err;
    }
    return c;
  },
};
