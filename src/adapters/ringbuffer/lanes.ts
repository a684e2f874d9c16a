/**
 * How the ring's lanes are numbered and who reads each, the same in both modes.
 *
 * A lane has one writer (an origin producer, or the stage's forwarder for it) and one
 * reader. Within a stage there is one lane per (partition, origin producer): partition
 * p's lane set is lanes p * producers .. p * producers + producers - 1, so with one
 * partition the lanes are the producers' as they always were. Across stages the lane
 * sets repeat: lane = (stage * partitions + partition) * producers + origin.
 *
 * Topics (`topics: N`) take no lanes of their own: producer i writes topic i mod N, so
 * its lanes are that topic's, and only the reader differs: topic t is read by the
 * consumers c with c mod N = t. Within a topic's consumers, a lane goes by its partition
 * (each partition is read by one consumer, in order), or without partitions by its
 * producer (as one topic's lanes always went: lane % consumers).
 */
import { BusbenchError } from '../../core/errors.ts';
import { topicOfProducer, unspreadTopics } from '../../core/topics.ts';

/** What the numbering depends on; a type so that it structured-clones in a worker init. */
export type LaneShape = {
  producers: number;
  consumers: number;
  stages: number;
  /** absent = 1 */
  partitions?: number;
  /** absent = 1 */
  topics?: number;
};

const partitionsOf = (s: LaneShape): number => s.partitions ?? 1;
const topicsOf = (s: LaneShape): number => s.topics ?? 1;

/** Members of class `t` mod `n` among 0..total-1. */
const inClass = (total: number, n: number, t: number): number => (total > t ? Math.floor((total - 1 - t) / n) + 1 : 0);

export function lanesPerStage(s: LaneShape): number {
  return partitionsOf(s) * s.producers;
}

export function laneCount(s: LaneShape): number {
  return s.stages * lanesPerStage(s);
}

export function laneIndex(s: LaneShape, stage: number, partition: number, origin: number): number {
  return (stage * partitionsOf(s) + partition) * s.producers + origin;
}

/** The partition a lane (any stage) belongs to. */
export function partitionOfLane(s: LaneShape, lane: number): number {
  return Math.floor((lane % lanesPerStage(s)) / s.producers);
}

/** The consumer (within its stage) that reads partition `partition`'s lane of producer `origin`. */
export function consumerOfLane(s: LaneShape, partition: number, origin: number): number {
  const n = topicsOf(s);
  const t = topicOfProducer(origin, n);
  const readers = inClass(s.consumers, n, t);
  const within = partitionsOf(s) > 1 ? partition : Math.floor(origin / n);
  return t + (within % readers) * n;
}

/** The lanes consumer `consumerId` reads in `stage`, lowest first. */
export function lanesOf(s: LaneShape, consumerId: number, stage: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < partitionsOf(s); p++) {
    for (let i = 0; i < s.producers; i++) if (consumerOfLane(s, p, i) === consumerId) out.push(laneIndex(s, stage, p, i));
  }
  return out;
}

/**
 * Why a shape leaves some consumer without a lane (each lane has one reader, so readers
 * cannot outnumber what they split), or undefined when every consumer has one.
 */
export function unreadableShape(s: LaneShape): string | undefined {
  const n = topicsOf(s);
  const p = partitionsOf(s);
  const unspread = unspreadTopics(s.producers, s.consumers, n);
  if (unspread) return unspread;
  for (let t = 0; t < n; t++) {
    const readers = inClass(s.consumers, n, t);
    const splits = p > 1 ? p : inClass(s.producers, n, t);
    if (readers > splits) {
      const what = p > 1 ? `${p} partitions` : `${splits} producer${splits === 1 ? '' : 's'}`;
      const where = n > 1 ? `topic ${t} has ${readers} consumers for ${what}` : `${readers} consumers for ${what}`;
      return `${where}; ${p > 1 ? 'a partition is read by one consumer' : 'each producer has one lane and a lane has one consumer'}, so consumers must not outnumber ${p > 1 ? 'partitions' : 'producers'}`;
    }
  }
  return undefined;
}

/** The shape, or an error naming why it cannot be read. */
export function checkedShape(s: LaneShape): LaneShape {
  const why = unreadableShape(s);
  if (why) throw new BusbenchError('CONFIG', `ringbuffer: ${why}`);
  return s;
}
