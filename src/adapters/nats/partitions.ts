/**
 * Partitions and keys on NATS: one stream per run, a subject token per partition and,
 * with keys, one more per key (`<subject>.p<partition>[.<key>]`), and one durable pull
 * consumer per partition filtered on its token. A partition is then what it is on Pulsar:
 * an ordering domain the stream delivers in order to the harness consumer that reads it,
 * and the partition of a message is the workload's (src/core/partitions.ts: the key's
 * Murmur3 hash, or a producer batch at a time without keys), so counts per partition mean
 * the same on both. One stream rather than one per partition keeps one store, one
 * duplicate window and one sequence space: the cross-check's totals stay the stream's.
 */
import type { KeyPlan } from '../../core/keys.ts';
import { keyIndex, keyText, NO_KEYS } from '../../core/keys.ts';
import { ONE_PARTITION, PartitionRouter, type PartitionPlan } from '../../core/partitions.ts';

/** How a run's stage-0 messages are spread (in the worker init); absent = one subject, one durable. */
export type NatsRouting = {
  plan: PartitionPlan;
  keys: KeyPlan;
};

/** Partitions or keys change the subjects; neither, the run looks as it always did. */
export function isRouted(r: NatsRouting | undefined): r is NatsRouting {
  return r !== undefined && (r.plan.count > 1 || r.keys.distribution !== 'none');
}

export function routingOf(plan: PartitionPlan | undefined, keys: KeyPlan | undefined): NatsRouting | undefined {
  const r = { plan: plan ?? ONE_PARTITION, keys: keys ?? NO_KEYS };
  return isRouted(r) ? r : undefined;
}

/** The subjects the stream takes: everything under the run's subject once routed. */
export function streamSubjects(subject: string, r: NatsRouting | undefined): string[] {
  return isRouted(r) ? [`${subject}.>`] : [subject];
}

/** What partition `p`'s durable filters on. */
export function partitionFilter(subject: string, p: number, r: NatsRouting): string {
  return r.keys.distribution === 'none' ? `${subject}.p${p}` : `${subject}.p${p}.*`;
}

/** The durable of partition `p`: the run's one durable when there is one partition. */
export function durableOf(durable: string, p: number, partitions: number): string {
  return partitions > 1 ? `${durable}-p${p}` : durable;
}

/**
 * The partitions harness consumer `c` reads: every consumers-th one from c, or, with more
 * consumers than partitions, one partition whose durable it shares (as a work queue, as
 * several consumers share the run's durable without partitions).
 */
export function partitionsOfConsumer(c: number, consumers: number, partitions: number): number[] {
  if (consumers > partitions) return [c % partitions];
  const out: number[] = [];
  for (let p = c; p < partitions; p += consumers) out.push(p);
  return out;
}

/** The subject of each of one producer's messages, the strings made once per partition and key. */
export class SubjectRouter {
  private readonly router: PartitionRouter;
  private readonly partitionSubjects: string[];
  private readonly keyed: Map<number, string> = new Map();

  constructor(
    private readonly subject: string,
    private readonly r: NatsRouting,
    private readonly producerId: number,
  ) {
    this.router = new PartitionRouter(r.plan, r.keys, producerId);
    this.partitionSubjects = Array.from({ length: r.plan.count }, (_, p) => `${subject}.p${p}`);
  }

  of(seq: number): string {
    const p = this.router.partition(seq);
    if (this.r.keys.distribution === 'none') return this.partitionSubjects[p]!;
    const k = keyIndex(this.r.keys, this.producerId, seq);
    let s = this.keyed.get(k);
    if (s === undefined) this.keyed.set(k, (s = `${this.partitionSubjects[p]!}.${keyText(k)}`));
    return s;
  }
}

/** The partition a delivered message's subject names (the token after the run's subject). */
export function partitionOfSubject(subject: string, prefixLength: number): number {
  let v = 0;
  // prefixLength covers "<subject>.p"
  for (let i = prefixLength; i < subject.length; i++) {
    const c = subject.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    v = v * 10 + (c - 0x30);
  }
  return v;
}
