/** What a NATS session hands its worker threads: where the servers are and what to use there. */
import type { NatsOptions } from './options.ts';
import type { RunStream } from './stream.ts';
import type { NatsRouting } from './partitions.ts';

export type NatsWorkerInit = {
  servers: string[];
  /** one per pipeline stage; [0] is the run's stream */
  stages: RunStream[];
  options: NatsOptions;
  /** partitions or keys: stage 0's subjects and durables (partitions.ts); absent = one subject, one durable */
  routing?: NatsRouting;
  /** with more than one topic, stage 0's stream per topic (stream.ts topicStreamNames); stages[0] is topic 0's */
  topics?: RunStream[];
};
