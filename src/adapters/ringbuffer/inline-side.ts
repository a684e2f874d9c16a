/** Worker-thread half of the inline mode: producers and consumers over the shared lanes. */
import type { AckSink, Consumer, ConsumerSpec, Producer, ProducerSpec } from '../../core/contract.ts';
import { doorbellIndex, openLane } from './layout.ts';
import { laneIndex, lanesOf, stageOf, type InlineInit } from './init.ts';
import { laneTarget, RingProducer, type LaneTarget } from './producer.ts';
import { RingConsumer } from './consumer.ts';
import { BusbenchError } from '../../core/errors.ts';

export function createInlineProducer(init: InlineInit, spec: ProducerSpec, acks: AckSink): Producer {
  const stage = stageOf(spec, init.stages, `producer ${spec.producerId}`);
  const bell = new Int32Array(init.doorbells);
  const targets = new Map<number, LaneTarget>();
  const target = (origin: number): LaneTarget => {
    let t = targets.get(origin);
    if (t) return t;
    // At stage 0 a producer owns one lane; writing another would break single-writer lanes.
    if (stage === 0 && origin !== spec.producerId) {
      throw new BusbenchError('ADAPTER', `ringbuffer: producer ${spec.producerId} sent a batch of producer ${origin}; only a stage > 0 producer forwards other producers' messages`);
    }
    if (!Number.isInteger(origin) || origin < 0 || origin >= init.producers) {
      throw new BusbenchError('ADAPTER', `ringbuffer: no lane for producer ${origin} (${init.producers} producers)`);
    }
    const consumerId = origin % init.consumers;
    t = laneTarget(openLane(init.lanes[laneIndex(stage, origin, init.producers)]!, init.padded), bell, doorbellIndex(stage * init.consumers + consumerId));
    targets.set(origin, t);
    return t;
  };
  if (stage === 0) target(spec.producerId);
  return new RingProducer(target, init.wait, spec.control, acks, init.dedup);
}

export function createInlineConsumer(init: InlineInit, spec: ConsumerSpec): Consumer {
  const stage = stageOf(spec, init.stages, `consumer ${spec.consumerId}`);
  if (spec.consumers !== init.consumers || spec.producers !== init.producers) {
    throw new BusbenchError('ADAPTER', 
      `ringbuffer: consumer ${spec.consumerId} was started for ${spec.producers} producers and ${spec.consumers} consumers, ` +
        `but the ring was opened for ${init.producers} and ${init.consumers}`,
    );
  }
  const lanes = lanesOf(spec.consumerId, init.consumers, init.producers).map((l) => openLane(init.lanes[laneIndex(stage, l, init.producers)]!, init.padded));
  const bell = new Int32Array(init.doorbells);
  return new RingConsumer(lanes, bell, doorbellIndex(stage * init.consumers + spec.consumerId), init.wait, spec.control);
}
