/** Worker-thread half of the ring buffer: producers and consumers over the shared lanes. */
import type { AckSink, Cloneable, Consumer, ConsumerSpec, Producer, ProducerSpec, WorkerSide } from '../../core/contract.ts';
import { doorbellIndex, openLane } from './layout.ts';
import { fromCloneable, lanesOf } from './init.ts';
import { RingProducer } from './producer.ts';
import { RingConsumer } from './consumer.ts';

export const workerSide: WorkerSide = {
  async createProducer(raw: Cloneable, spec: ProducerSpec, acks: AckSink): Promise<Producer> {
    const init = fromCloneable(raw);
    const sab = init.lanes[spec.producerId];
    if (!sab) throw new Error(`ringbuffer: no lane for producer ${spec.producerId} (${init.lanes.length} lanes)`);
    const consumerId = spec.producerId % init.consumers;
    const bell = new Int32Array(init.doorbells);
    return new RingProducer(openLane(sab, init.padded), bell, doorbellIndex(consumerId), init.wait, spec.control, acks);
  },

  async createConsumer(raw: Cloneable, spec: ConsumerSpec): Promise<Consumer> {
    const init = fromCloneable(raw);
    if (spec.consumers !== init.consumers || spec.producers !== init.lanes.length) {
      throw new Error(
        `ringbuffer: consumer ${spec.consumerId} was started for ${spec.producers} producers and ${spec.consumers} consumers, ` +
          `but the ring was opened for ${init.lanes.length} and ${init.consumers}`,
      );
    }
    const lanes = lanesOf(spec.consumerId, init.consumers, init.lanes.length).map((l) => openLane(init.lanes[l]!, init.padded));
    const bell = new Int32Array(init.doorbells);
    return new RingConsumer(lanes, bell, doorbellIndex(spec.consumerId), init.wait, spec.control);
  },
};
