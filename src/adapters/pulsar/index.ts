/**
 * Apache Pulsar through busbench's own client of the binary protocol (./wire): the npm
 * pulsar-client package downloads a native library at install time, which this project
 * cannot rely on.
 *
 * Each run gets its own namespace busbench/<runId> (deduplication is a namespace policy)
 * holding one persistent topic, `messages` (partitioned when asked), and one durable
 * subscription, `busbench`, created at the earliest position before any producer starts,
 * so nothing published is missed. close() deletes them and stops a broker it started.
 */
import { refusePowerLoss } from '../../brokers/common/power-loss.ts';
import type { Capabilities, SystemAdapter } from '../../core/contract.ts';
import type { PulsarInit } from './init.ts';
import { checkRun, parsePulsarOptions, type PulsarOptions } from './options.ts';
import { openSession } from './session.ts';

export const adapter: SystemAdapter<PulsarOptions, PulsarInit> = {
  name: 'pulsar',
  description: 'Apache Pulsar standalone (broker + bookie), persistent topic, through busbench’s own binary-protocol client',
  needsBroker: true,
  parseOptions: parsePulsarOptions,

  capabilities(o: PulsarOptions): Capabilities {
    return {
      // journalSync off: the bookie acknowledges once the entry is written to the journal,
      // before its fsync. A kill -9 keeps the page cache, so acknowledged messages survive
      // it; a power loss can take them. Same footing as NATS file storage with the default
      // sync interval.
      durability: o.journalSync === 'on' ? 'power-loss' : 'process-crash',
      acks: true,
      perProducerOrdering: true,
      deduplication: o.dedup === 'on',
      transactions: o.transactions === 'on',
      idempotencyRecord: 'message-id',
    };
  },

  guaranteeOptions(guarantee) {
    // exactly-once: the broker drops a (producer name, sequence id) it already stored, and
    // pipeline stages forward and acknowledge in one transaction
    const on = guarantee === 'exactly-once' ? 'on' : 'off';
    return { dedup: on, transactions: on };
  },

  checkRun(o, run, where) {
    checkRun(o, run, where);
    refusePowerLoss(run, where);
  },

  open: openSession,
};
