/**
 * Counts per topic (sent, acked, received, acknowledged but never received), from the
 * ledgers: a message's topic is its producer's (src/core/topics.ts), so the counts are
 * sums over producers and nothing recorded where each message went. Checked twice:
 *   - against the run: they add up to its totals (sent, acked, received − duplicated,
 *     ackedLost), and no topic lost an acknowledged message where the run lost none, so a
 *     topic that took another's messages, or none, shows;
 *   - against the broker, where it counts per topic (a NATS stream, a Pulsar topic, a
 *     child ring's lane set), each topic as the totals are (partition-counts.ts).
 */
import type { BrokerCounts } from '../core/contract.ts';
import type { DeliveryCounts, TopicCounts, TopicsResult } from '../core/result.ts';
import { topicOfProducer } from '../core/topics.ts';
import type { ConsumerLedgerSnapshot, ProducerLedgerSnapshot } from './ledger.ts';
import { domainDisagreement, receivedPerProducer, withBrokerCounts, type PartitionCheckContext } from './partition-counts.ts';
import { SeqSet } from './seqset.ts';

export function countPerTopic(producers: readonly ProducerLedgerSnapshot[], consumers: readonly ConsumerLedgerSnapshot[], topics: number): TopicCounts[] {
  const out = Array.from({ length: topics }, (_, topic): TopicCounts => ({ topic, sent: 0, acked: 0, received: 0, ackedLost: 0 }));
  const received = receivedPerProducer(consumers);
  for (const p of producers) {
    const t = out[topicOfProducer(p.producerId, topics)]!;
    const acked = SeqSet.fromSnapshot(p.acked);
    const got = received.get(p.producerId) ?? new SeqSet();
    t.sent += p.sent;
    t.acked += acked.size;
    t.ackedLost += acked.countMissingFrom(got);
  }
  // received by producer, so a message of a producer the ledger has no report of still counts
  for (const [id, set] of received) out[topicOfProducer(id, topics)]!.received += set.size;
  return out;
}

/** Where the topics do not add up to the run's totals, or lost what the run did not. */
function inconsistencies(counts: readonly TopicCounts[], d: DeliveryCounts): string[] {
  const sum = (f: (c: TopicCounts) => number): number => counts.reduce((n, c) => n + f(c), 0);
  const wrong: string[] = [];
  const totals: Array<[string, number, number]> = [
    ['sent', sum((c) => c.sent), d.sent],
    ['acked', sum((c) => c.acked), d.acked],
    ['received', sum((c) => c.received), d.received - d.duplicated],
    ['acked but lost', sum((c) => c.ackedLost), d.ackedLost],
  ];
  for (const [what, topics, run] of totals) if (topics !== run) wrong.push(`the topics' ${what} add up to ${topics}, the run's is ${run}`);
  if (d.ackedLost === 0) for (const c of counts) if (c.received < c.acked) wrong.push(`topic ${c.topic}: received ${c.received} of ${c.acked} acknowledged`);
  return wrong;
}

export function checkTopics(counts: TopicCounts[], delivery: DeliveryCounts, broker: BrokerCounts | undefined, ctx: PartitionCheckContext): TopicsResult {
  const wrong = inconsistencies(counts, delivery);
  const consistent = wrong.length === 0;
  const per = broker?.perTopic;
  const base = consistent ? 'the topics add up to the run' : wrong.join('; ');
  if (!per || per.length !== counts.length) {
    return { counts, consistent, agrees: null, note: `${base}; ${per ? `the broker counted ${per.length} topics, the run has ${counts.length}` : 'the broker reported no per-topic count'}` };
  }
  const withBroker = counts.map((c, i) => withBrokerCounts(c, per[i]!));
  if (ctx.unjudgeable) return { counts: withBroker, consistent, agrees: null, note: `${base}; per-topic broker counts not judged: ${ctx.unjudgeable}` };
  const disagree = counts.map((c, i) => domainDisagreement(`topic ${c.topic}`, c, per[i]!, ctx.duplicated)).filter((x): x is string => x !== undefined);
  const agrees = disagree.length === 0;
  return { counts: withBroker, consistent, agrees, note: `${base}; ${agrees ? `every topic's broker counts agree with the ledger (${broker!.source})` : disagree.join('; ')}` };
}

/** A short line per run for the console: the topics' received counts. */
export function describeTopics(r: TopicsResult): string {
  const cross = r.agrees === true ? ', broker agrees' : r.agrees === false ? ', BROKER DISAGREES' : '';
  const wrong = r.consistent && r.agrees !== false ? '' : `: ${r.note}`;
  return `topics ${r.counts.length}: received ${r.counts.map((c) => c.received).join(' / ')} (sent ${r.counts.map((c) => c.sent).join(' / ')})${cross}${wrong}`;
}
