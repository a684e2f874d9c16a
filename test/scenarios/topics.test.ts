/**
 * The `topics` workload field and its flag: parsed, defaulted, refused in one line naming
 * the value and what is valid, and refused where a topic would have no producer or no
 * consumer; and the per-topic counts, which add up to the run's totals, against the
 * run and the broker.
 */
import { describe, expect, it } from 'vitest';
import { checkSystems, validateScenario } from '../../src/scenario/scenario.ts';
import { applyFlags, parseFlags } from '../../src/scenario/flags.ts';
import { ConfigError, UsageError } from '../../src/core/errors.ts';
import { ConsumerLedger, ProducerLedger, reconcile } from '../../src/checks/ledger.ts';
import { checkTopics, countPerTopic, describeTopics } from '../../src/checks/topic-counts.ts';

const systems = ['ringbuffer', 'nats', 'pulsar'];
const parse = (doc: Record<string, unknown>) => validateScenario(doc, 'x.yaml', systems);

function configError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('no error');
}

describe('topics in a scenario file and on the command line', () => {
  it('are 1 by default, and read as written', () => {
    expect(parse({}).topics).toBe(1);
    expect(parse({ topics: 3, producers: 3, consumers: 3 }).topics).toBe(3);
    expect(parse({ topics: 64 }).topics).toBe(64);
  });

  it('refuse anything but an integer from 1 to 64, naming the value', () => {
    expect(configError(() => parse({ topics: 0 }))).toBe('x.yaml: topics: expected an integer from 1 to 64, got 0');
    expect(configError(() => parse({ topics: 65 }))).toBe('x.yaml: topics: expected an integer from 1 to 64, got 65');
    expect(configError(() => parse({ topics: 1.5 }))).toBe('x.yaml: topics: expected an integer from 1 to 64, got 1.5');
    expect(configError(() => parse({ topics: 'three' }))).toBe('x.yaml: topics: expected an integer from 1 to 64, got "three"');
  });

  it('--topics overrides the file; a bad value is one line', () => {
    const withFlags = (doc: Record<string, unknown>, argv: string[]) => applyFlags(parse(doc), parseFlags(argv, systems));
    expect(withFlags({ topics: 2 }, ['--topics', '4']).topics).toBe(4);
    expect(withFlags({ topics: 2 }, []).topics).toBe(2);
    for (const bad of ['0', '65', '-1', '2.5', 'four', '']) {
      expect(() => parseFlags(['--topics', bad], systems)).toThrow(new UsageError(`--topics ${bad}: expected an integer from 1 to 64`));
    }
  });

  it('refuse more topics than consumers or producers, after the flags', () => {
    const checked = (doc: Record<string, unknown>, argv: string[] = []) => checkSystems(applyFlags(parse(doc), parseFlags(argv, systems)), systems);
    expect(() => checked({ topics: 3, producers: 3, consumers: 3 })).not.toThrow();
    expect(configError(() => checked({ topics: 3, producers: 3, consumers: 3 }, ['--consumers', '2']))).toBe(
      'x.yaml: topics: expected at most as many topics as producers and consumers (2 consumers for 3 topics: consumer c reads topic c mod 3, so every topic needs one (at least 3 consumers)), got 3',
    );
    expect(configError(() => checked({ topics: 3, producers: 1, consumers: 3 }))).toMatch(/^x.yaml: topics: expected .*\(1 producer for 3 topics: producer p writes topic p mod 3/);
  });
});

describe('per-topic counts', () => {
  /** Three producers over 3 topics, 1000 messages each; topic 1's consumer misses 5 acknowledged ones. */
  function ledgers(missing = 5) {
    const producers = [0, 1, 2].map((id) => {
      const p = new ProducerLedger(id);
      p.sent = 1000;
      p.acked(0, 990);
      p.unknown(990, 10, 'timeout');
      return p;
    });
    const consumers = [0, 1, 2].map((id) => new ConsumerLedger(id));
    for (const id of [0, 1, 2]) for (let seq = id === 1 ? missing : 0; seq < 1000; seq++) consumers[id]!.record(id, seq);
    return { producers: producers.map((p) => p.snapshot()), consumers: consumers.map((c) => c.snapshot()) };
  }

  it('add up to the totals, and a clean run is consistent', () => {
    const { producers, consumers } = ledgers(0);
    const totals = reconcile(producers, consumers).counts;
    const per = countPerTopic(producers, consumers, 3);
    expect(per).toEqual([0, 1, 2].map((topic) => ({ topic, sent: 1000, acked: 990, received: 1000, ackedLost: 0 })));
    const r = checkTopics(per, totals, undefined, { duplicated: 0 });
    expect(r).toMatchObject({ consistent: true, agrees: null, note: 'the topics add up to the run; the broker reported no per-topic count' });
    expect(describeTopics(r)).toBe('topics 3: received 1000 / 1000 / 1000 (sent 1000 / 1000 / 1000)');
  });

  it("say which topic lost acknowledged messages, and where the broker's count disagrees", () => {
    const { producers, consumers } = ledgers();
    const totals = reconcile(producers, consumers).counts;
    const per = countPerTopic(producers, consumers, 3);
    expect(per[1]).toEqual({ topic: 1, sent: 1000, acked: 990, received: 995, ackedLost: 5 });
    // the totals saw the loss too, so the topics are consistent with them
    expect(checkTopics(per, totals, undefined, { duplicated: 0 }).consistent).toBe(true);
    // a run that claims no loss while a topic received fewer than it acknowledged is not
    const claimed = checkTopics(per, { ...totals, ackedLost: 0 }, undefined, { duplicated: 0 });
    expect(claimed.consistent).toBe(false);
    expect(claimed.note).toMatch(/the topics' acked but lost add up to 5, the run's is 0/);
    const broker = { source: 'test', perTopic: per.map((c, i) => ({ stored: c.acked - (i === 2 ? 1 : 0), delivered: c.received })) };
    const r = checkTopics(per, totals, broker, { duplicated: 0 });
    expect(r.agrees).toBe(false);
    expect(r.note).toBe('the topics add up to the run; topic 2: broker stored 989, outside [acked 990, sent 1000]');
    expect(r.counts[0]).toMatchObject({ brokerStored: 990, brokerDelivered: 1000 });
    expect(describeTopics(r)).toMatch(/BROKER DISAGREES: .*topic 2/);
  });
});
