/**
 * Topics, a workload field (`topics: N`): N streams, topics or lane sets per run, with one
 * meaning on every system (NATS: a stream each; Pulsar: a topic each; the ring: a lane set
 * each; see the README). Producer p writes topic p mod N and consumer c reads topic c mod
 * N, so a message's topic is a function of its producer alone and per-topic counts need no
 * record of where each message went. Topics are independent of partitions: with both,
 * each topic has the run's partitions.
 */

import { ConfigError } from './errors.ts';

export const MAX_TOPICS = 64;

export function topicOfProducer(producerId: number, topics: number): number {
  return producerId % topics;
}

export function topicOfConsumer(consumerId: number, topics: number): number {
  return consumerId % topics;
}

/** Harness consumers reading topic `t`: the c with c mod topics = t. */
export function consumersOfTopic(t: number, consumers: number, topics: number): number {
  return consumers > t ? Math.floor((consumers - 1 - t) / topics) + 1 : 0;
}

/** Why a run's shape leaves a topic without a producer or a consumer, or undefined when it does not. */
export function unspreadTopics(producers: number, consumers: number, topics: number): string | undefined {
  if (topics <= 1) return undefined;
  if (consumers < topics) return `${consumers} consumer${consumers === 1 ? '' : 's'} for ${topics} topics: consumer c reads topic c mod ${topics}, so every topic needs one (at least ${topics} consumers)`;
  if (producers < topics) return `${producers} producer${producers === 1 ? '' : 's'} for ${topics} topics: producer p writes topic p mod ${topics}, so every topic needs one (at least ${topics} producers)`;
  return undefined;
}

/**
 * Topics are stage 0's (a pipeline stage forwards to one stream or topic), and every topic
 * needs a producer and a consumer: refused before the run (exit 2) otherwise.
 */
export function refuseTopicShape(run: { producers: number; consumers: number; stages: number; topics?: number }, where: string, system: string): void {
  const topics = run.topics ?? 1;
  if (topics <= 1) return;
  if (run.stages > 1) throw new ConfigError(where, 'topics', `1 with pipeline stages on ${system} (a stage forwards to one stream)`, topics);
  const why = unspreadTopics(run.producers, run.consumers, topics);
  if (why) throw new ConfigError(where, 'topics', `at most as many topics as producers and consumers (${why})`, topics);
}
