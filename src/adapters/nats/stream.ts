/** The run's stream and durable consumer: creation, and the counts the server keeps. */
import { AckPolicy, DiscardPolicy, StoreCompression, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import type { BrokerCounts } from '../../core/contract.ts';
import { BrokerError } from '../../core/errors.ts';
import type { NatsOptions } from './options.ts';

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

export async function createRunStream(jsm: JetStreamManager, names: RunStream, o: NatsOptions): Promise<void> {
  await withRetry('creating the stream', () =>
    jsm.streams.add({
      name: names.stream,
      subjects: [names.subject],
      storage: o.storage === 'file' ? StorageType.File : StorageType.Memory,
      num_replicas: o.replicas,
      duplicate_window: o.duplicateWindowMs * 1e6,
      max_msgs: o.maxMsgs,
      max_bytes: o.maxBytes,
      discard: o.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
      ...(o.compression === 's2' ? { compression: StoreCompression.S2 } : {}),
    }),
  );
  await withRetry('creating the consumer', () =>
    jsm.consumers.add(names.stream, {
      durable_name: names.durable,
      ack_policy: ACK_POLICY[o.ackPolicy],
      max_ack_pending: o.maxAckPending,
      ack_wait: o.ackWaitMs * 1e6,
    }),
  );
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
