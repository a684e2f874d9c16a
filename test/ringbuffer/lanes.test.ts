/** The ring's lane numbering and who reads each lane, with partitions and topics (lanes.ts). */
import { describe, expect, it } from 'vitest';
import { consumerOfLane, laneCount, laneIndex, lanesOf, partitionOfLane, unreadableShape } from '../../src/adapters/ringbuffer/lanes.ts';

describe('ring lanes', () => {
  it('one partition, one topic: lane = producer, read by consumer lane mod consumers, as always', () => {
    const s = { producers: 5, consumers: 2, stages: 2 };
    expect(laneCount(s)).toBe(10);
    expect(lanesOf(s, 0, 0)).toEqual([0, 2, 4]);
    expect(lanesOf(s, 1, 1)).toEqual([6, 8]);
  });

  it('partitions: a lane set per partition, each partition read by one consumer', () => {
    const s = { producers: 2, consumers: 2, stages: 1, partitions: 4 };
    expect(laneCount(s)).toBe(8);
    expect(laneIndex(s, 0, 3, 1)).toBe(7);
    expect(partitionOfLane(s, 7)).toBe(3);
    expect(lanesOf(s, 0, 0)).toEqual([0, 1, 4, 5]);
    expect(lanesOf(s, 1, 0)).toEqual([2, 3, 6, 7]);
  });

  it('topics: consumer c reads only the lanes of producers p with p mod topics = c mod topics', () => {
    const s = { producers: 4, consumers: 3, stages: 1, topics: 2 };
    // topic 0: producers 0, 2 and consumers 0, 2; topic 1: producers 1, 3 and consumer 1
    expect([0, 1, 2, 3].map((p) => consumerOfLane(s, 0, p))).toEqual([0, 1, 2, 1]);
    // one topic, producer 3 would go to consumer 0
    expect(consumerOfLane({ ...s, topics: 1 }, 0, 3)).toBe(0);
  });

  it('names the shapes no consumer set can read', () => {
    expect(unreadableShape({ producers: 2, consumers: 3, stages: 1 })).toMatch(/^3 consumers for 2 producers; each producer has one lane/);
    expect(unreadableShape({ producers: 4, consumers: 3, stages: 1, partitions: 2 })).toMatch(/^3 consumers for 2 partitions/);
    expect(unreadableShape({ producers: 4, consumers: 3, stages: 1, topics: 2, partitions: 1 })).toBeUndefined();
    expect(unreadableShape({ producers: 2, consumers: 4, stages: 1, topics: 2 })).toMatch(/^topic 0 has 2 consumers for 1 producer/);
    expect(unreadableShape({ producers: 3, consumers: 2, stages: 1, topics: 3 })).toMatch(/^2 consumers for 3 topics/);
    expect(unreadableShape({ producers: 2, consumers: 3, stages: 1, topics: 3 })).toMatch(/^2 producers for 3 topics/);
  });
});
