/**
 * Worker-thread half of Pulsar: one client (one connection) per harness producer
 * (./producer.ts), consumer (./consumer.ts) or transactional pipeline stage
 * (./forwarder.ts), built on the wire client in ./wire.
 */
import type { AckSink, Consumer, ConsumerSpec, Forwarder, Producer, ProducerSpec, WorkerSide } from '../../core/contract.ts';
import { newClient, openConsumer } from './consumer.ts';
import { TransactionalForwarder } from './forwarder.ts';
import { atStage, checkedInit, forTopic, type PulsarInit } from './init.ts';
import { topicOfConsumer, topicOfProducer } from '../../core/topics.ts';
import { PulsarProducer } from './producer.ts';

export const workerSide: WorkerSide<PulsarInit> = {
  async createProducer(raw: PulsarInit, spec: ProducerSpec, acks: AckSink): Promise<Producer> {
    const checked = checkedInit(raw);
    const init = atStage(forTopic(checked, topicOfProducer(spec.producerId, checked.topics?.length ?? 1)), spec.stage);
    const client = newClient(init);
    const producer = new PulsarProducer(client, init, spec, acks);
    try {
      // A stage's producers come with the origins it forwards for.
      if ((spec.stage ?? 0) === 0) await producer.open(spec.producerId);
      return producer;
    } catch (err) {
      await client.close();
      throw err;
    }
  },

  createConsumer(raw: PulsarInit, spec: ConsumerSpec): Promise<Consumer> {
    const init = checkedInit(raw);
    return openConsumer(atStage(forTopic(init, topicOfConsumer(spec.consumerId, init.topics?.length ?? 1)), spec.stage), spec.consumerId);
  },

  createForwarder(raw: PulsarInit, spec: ConsumerSpec): Promise<Forwarder> {
    return TransactionalForwarder.open(checkedInit(raw), spec);
  },
};
