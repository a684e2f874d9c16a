/** Worker-thread half of the inline mode: producers and consumers over the shared lanes. */
import type { AckSink, Consumer, ConsumerSpec, Producer, ProducerSpec } from '../../core/contract.ts';
import { doorbellIndex, openLane } from './layout.ts';
import { shapeOf, stageOf, type InlineInit } from './init.ts';
import { consumerOfLane, laneIndex, lanesOf, partitionOfLane } from './lanes.ts';
import { laneTarget, RingProducer, type LaneTarget } from './producer.ts';
import { RingConsumer } from './consumer.ts';
import { BatchRouter } from './routing.ts';
import { BusbenchError } from '../../core/errors.ts';

export function createInlineProducer(init: InlineInit, spec: ProducerSpec, acks: AckSink): Producer {
  const stage = stageOf(spec, init.stages, `producer ${spec.producerId}`);
  const shape = shapeOf(init);
  const bell = new Int32Array(init.doorbells);
  const targets = new Map<number, LaneTarget>();
  const target = (origin: number, partition: number): LaneTarget => {
    const lane = laneIndex(shape, stage, partition, origin);
    let t = targets.get(lane);
    if (t) return t;
    // At stage 0 a producer owns its lanes; writing another's would break single-writer lanes.
    if (stage === 0 && origin !== spec.producerId) {
      throw new BusbenchError('ADAPTER', `ringbuffer: producer ${spec.producerId} sent a batch of producer ${origin}; only a stage > 0 producer forwards other producers' messages`);
    }
    if (!Number.isInteger(origin) || origin < 0 || origin >= init.producers) {
      throw new BusbenchError('ADAPTER', `ringbuffer: no lane for producer ${origin} (${init.producers} producers)`);
    }
    const consumerId = consumerOfLane(shape, partition, origin);
    t = laneTarget(openLane(init.lanes[lane]!, init.padded), bell, doorbellIndex(stage * init.consumers + consumerId));
    targets.set(lane, t);
    return t;
  };
  if (stage === 0) target(spec.producerId, 0);
  return new RingProducer(target, new BatchRouter(init.routing), init.wait, spec.control, acks, init.dedup);
}

export function createInlineConsumer(init: InlineInit, spec: ConsumerSpec): Consumer {
  const stage = stageOf(spec, init.stages, `consumer ${spec.consumerId}`);
  if (spec.consumers !== init.consumers || spec.producers !== init.producers) {
    throw new BusbenchError('ADAPTER', 
      `ringbuffer: consumer ${spec.consumerId} was started for ${spec.producers} producers and ${spec.consumers} consumers, ` +
        `but the ring was opened for ${init.producers} and ${init.consumers}`,
    );
  }
  const shape = shapeOf(init);
  const mine = lanesOf(shape, spec.consumerId, stage);
  const lanes = mine.map((l) => openLane(init.lanes[l]!, init.padded));
  const bell = new Int32Array(init.doorbells);
  // With partitions a producer's messages are in order within a partition only: each batch names its partition.
  const partitions = init.routing ? mine.map((l) => partitionOfLane(shape, l)) : undefined;
  return new RingConsumer(lanes, bell, doorbellIndex(stage * init.consumers + spec.consumerId), init.wait, spec.control, undefined, partitions);
}
