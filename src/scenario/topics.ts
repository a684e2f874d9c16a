/**
 * `topics` (and `--topics`): how many streams, topics or lane sets a run's producers and
 * consumers are spread over, the same meaning on every system (src/core/topics.ts says
 * who writes and reads which).
 */
import { ConfigError } from '../core/errors.ts';
import { integer } from '../core/options.ts';
import { MAX_TOPICS, unspreadTopics } from '../core/topics.ts';

/** The scenario field; absent = 1 (the run's one stream or topic, named as it always was). */
export function topicsField(file: string, v: unknown): number {
  if (v === undefined) return 1;
  return integer(file, 'topics', v, { min: 1, max: MAX_TOPICS });
}


/** After the flags: every topic has a producer and a consumer. */
export function checkTopicsSpread(file: string, s: { topics: number; producers: number; consumers: number }): void {
  const why = unspreadTopics(s.producers, s.consumers, s.topics);
  if (why) throw new ConfigError(file, 'topics', `at most as many topics as producers and consumers (${why})`, s.topics);
}
