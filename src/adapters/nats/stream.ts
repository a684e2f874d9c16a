/** The run's stream and durable consumer: creation, and the counts the server keeps. */
import { AckPolicy, DiscardPolicy, StoreCompression, StorageType, type ConsumerInfo, type JetStreamManager } from '@nats-io/jetstream';
import type { BrokerCounts } from '../../core/contract.ts';
import { BrokerError } from '../../core/errors.ts';
import type { NatsOptions } from './options.ts';
import { durableOf, isRouted, partitionFilter, streamSubjects, type NatsRouting } from './partitions.ts';

export type RunStream = {
  stream: string;
  subject: string;
  durable: string;
};

/** Stage 0 is the run's stream; pipeline stages get their own, so each has its own duplicate window. */
export function runStreamNames(runId: string, stage = 0): RunStream {
  const id = runId.replace(/[^\w-]/g, '_');
  if (stage === 0) return { stream: `busbench_${id}`, subject: `busbench.${id}.orders`, durable: 'busbench' };
  return { stream: `busbench_${id}_s${stage}`, subject: `busbench.${id}.stage${stage}`, durable: 'busbench' };
}

/**
 * The streams of a run over several topics (`topics: N`), one per topic: stream
 * busbench_<run>_t<i>, subject busbench.<run>.t<i>.orders. One topic keeps the run's
 * single stream and its name.
 */
export function topicStreamNames(runId: string, topics: number): RunStream[] {
  if (topics <= 1) return [runStreamNames(runId)];
  const id = runId.replace(/[^\w-]/g, '_');
  return Array.from({ length: topics }, (_, t) => ({ stream: `busbench_${id}_t${t}`, subject: `busbench.${id}.t${t}.orders`, durable: 'busbench' }));
}

const ACK_POLICY = { explicit: AckPolicy.Explicit, all: AckPolicy.All, none: AckPolicy.None } as const;

const TRANSIENT = /timeout|no responders|503|not available|no suitable peers|leader|insufficient resources|disconnect/i;

/** Retries while JetStream is not answering yet (start-up, restart, leader election). */
export async function withRetry<T>(what: string, fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const message = (err as Error).message;
      if (!TRANSIENT.test(message)) throw err;
      if (Date.now() > deadline) throw new BrokerError(`nats: ${what} failed for ${timeoutMs / 1000} s: ${message}`, '', { cause: err });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** The durables of a stream: one, or one per partition with its filter. */
export function durables(names: RunStream, r: NatsRouting | undefined): Array<{ durable: string; filter?: string }> {
  if (!isRouted(r)) return [{ durable: names.durable }];
  const n = r.plan.count;
  return Array.from({ length: n }, (_, p) => ({ durable: durableOf(names.durable, p, n), filter: partitionFilter(names.subject, p, r) }));
}

export async function createRunStream(jsm: JetStreamManager, names: RunStream, o: NatsOptions, r?: NatsRouting): Promise<void> {
  await withRetry('creating the stream', () =>
    jsm.streams.add({
      name: names.stream,
      subjects: streamSubjects(names.subject, r),
      storage: o.storage === 'file' ? StorageType.File : StorageType.Memory,
      num_replicas: o.replicas,
      duplicate_window: o.duplicateWindowMs * 1e6,
      max_msgs: o.maxMsgs,
      max_bytes: o.maxBytes,
      discard: o.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
      ...(o.compression === 's2' ? { compression: StoreCompression.S2 } : {}),
    }),
  );
  for (const { durable, filter } of durables(names, r)) {
    await withRetry('creating the consumer', () =>
      jsm.consumers.add(names.stream, {
        durable_name: durable,
        ack_policy: ACK_POLICY[o.ackPolicy],
        max_ack_pending: o.maxAckPending,
        ack_wait: o.ackWaitMs * 1e6,
        ...(filter ? { filter_subject: filter } : {}),
      }),
    );
  }
}

/**
 * Stage 0 over its partitions: the stream's messages per partition token (from its
 * subjects) and each partition durable's deliveries (consumer_seq: a filtered durable's
 * stream sequences are not a count), summed as the run's delivered count.
 */
export async function partitionedCounts(jsm: JetStreamManager, names: RunStream, r: NatsRouting): Promise<BrokerCounts> {
  const n = r.plan.count;
  const si = await withRetry('reading stream info', () => jsm.streams.info(names.stream, { subjects_filter: `${names.subject}.>` }));
  const stored = new Array<number>(n).fill(0);
  const prefix = `${names.subject}.p`;
  for (const [subject, count] of Object.entries(si.state.subjects ?? {})) {
    const p = Number(subject.slice(prefix.length).split('.')[0]);
    if (subject.startsWith(prefix) && p < n) stored[p]! += count;
  }
  const infos: ConsumerInfo[] = [];
  for (const { durable } of durables(names, r)) infos.push(await withRetry('reading consumer info', () => jsm.consumers.info(names.stream, durable)));
  const sum = (f: (ci: (typeof infos)[number]) => number): number => infos.reduce((t, ci) => t + f(ci), 0);
  return {
    source: `jetstream stream info (messages per subject) and the ${n} partition durables' consumer info`,
    stored: si.state.messages,
    delivered: sum((ci) => ci.delivered.consumer_seq),
    perPartition: infos.map((ci, p) => ({ stored: stored[p]!, delivered: ci.delivered.consumer_seq })),
    detail: {
      firstSeq: si.state.first_seq,
      lastSeq: si.state.last_seq,
      bytes: si.state.bytes,
      subjects: si.state.num_subjects ?? 0,
      ackPending: sum((ci) => ci.num_ack_pending),
      pending: sum((ci) => ci.num_pending),
      redelivered: sum((ci) => ci.num_redelivered),
      replicas: 1 + (si.cluster?.replicas?.length ?? 0),
    },
  };
}

/**
 * A run over several topics: each topic stream's counts (partitioned or not), summed as
 * the run's, and per topic; with partitions, partition p's counts summed over the topics.
 */
export async function topicCounts(jsm: JetStreamManager, streams: RunStream[], r: NatsRouting | undefined): Promise<BrokerCounts> {
  const per: BrokerCounts[] = [];
  for (const names of streams) per.push(r ? await partitionedCounts(jsm, names, r) : await streamCounts(jsm, names));
  const sum = (f: (c: BrokerCounts) => number | undefined): number => per.reduce((t, c) => t + (f(c) ?? 0), 0);
  const detail: Record<string, number> = {};
  for (const c of per) for (const [k, v] of Object.entries(c.detail ?? {})) if (!['firstSeq', 'lastSeq', 'ackFloor', 'replicas'].includes(k)) detail[k] = (detail[k] ?? 0) + v;
  const n = r?.plan.count ?? 1;
  return {
    source: `${per[0]!.source}, of each of the ${streams.length} topic streams`,
    stored: sum((c) => c.stored),
    delivered: sum((c) => c.delivered),
    perTopic: per.map((c) => ({ stored: c.stored ?? 0, delivered: c.delivered ?? 0 })),
    ...(n > 1 ? { perPartition: Array.from({ length: n }, (_, p) => ({ stored: sum((c) => c.perPartition?.[p]?.stored), delivered: sum((c) => c.perPartition?.[p]?.delivered) })) } : {}),
    detail: { ...detail, replicas: per[0]!.detail?.replicas ?? 1 },
  };
}

/**
 * Stage 0's counts (the harness cross-checks them against its ledger), with the later
 * pipeline stages' main numbers in the detail as stage<N><Name>. A later stage whose
 * info cannot be read is left out rather than costing the cross-check.
 */
export async function pipelineCounts(jsm: JetStreamManager, stages: RunStream[]): Promise<BrokerCounts> {
  const counts = await streamCounts(jsm, stages[0]!);
  if (stages.length < 2) return counts;
  const detail = { ...counts.detail };
  for (let s = 1; s < stages.length; s++) {
    const c = await streamCounts(jsm, stages[s]!).catch(() => undefined);
    if (!c) continue;
    detail[`stage${s}Stored`] = c.stored ?? 0;
    detail[`stage${s}Delivered`] = c.delivered ?? 0;
    detail[`stage${s}AckPending`] = c.detail?.ackPending ?? 0;
    detail[`stage${s}Redelivered`] = c.detail?.redelivered ?? 0;
  }
  return { ...counts, source: `${counts.source} (stage 0 of ${stages.length}; later stages in the detail)`, detail };
}

export async function streamCounts(jsm: JetStreamManager, names: RunStream): Promise<BrokerCounts> {
  const si = await withRetry('reading stream info', () => jsm.streams.info(names.stream));
  const ci = await withRetry('reading consumer info', () => jsm.consumers.info(names.stream, names.durable));
  return {
    source: 'jetstream stream and consumer info',
    stored: si.state.messages,
    delivered: ci.delivered.stream_seq,
    detail: {
      firstSeq: si.state.first_seq,
      lastSeq: si.state.last_seq,
      bytes: si.state.bytes,
      ackFloor: ci.ack_floor.stream_seq,
      ackPending: ci.num_ack_pending,
      pending: ci.num_pending,
      redelivered: ci.num_redelivered,
      replicas: 1 + (si.cluster?.replicas?.length ?? 0),
    },
  };
}
