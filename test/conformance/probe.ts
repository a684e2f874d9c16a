/**
 * What the conformance suite needs to drive any system through the contract alone, and
 * to hold it to the contract's promises: an AckSink that counts outcomes per sequence,
 * a producer loop that stamps real envelopes, and a consumer loop with a deadline so that
 * no system under test can hang the suite.
 */
import type { AckSink, Consumer, DeliveryBatch, Producer } from '../../src/core/contract.ts';
import { encodeTemplate, readProducer, readSeq, stampBatch } from '../../src/core/envelope.ts';

export const SIZE = 256;

/**
 * Every outcome the producer reported, per sequence. The contract asks for exactly one
 * per sent sequence, so a second one (an ack after a timeout, a range reported twice)
 * must show, not be absorbed by a set.
 */
export class Outcomes implements AckSink {
  readonly ackedSeqs = new Set<number>();
  readonly perSeq = new Map<number, number>();
  failedCount = 0;
  unknownCount = 0;
  duplicateCount = 0;

  acked(seq: number, count: number): void {
    for (let s = seq; s < seq + count; s++) this.ackedSeqs.add(s);
    this.settle(seq, count);
  }

  failed(seq: number, count: number): void {
    this.failedCount += count;
    this.settle(seq, count);
  }

  unknown(seq: number, count: number): void {
    this.unknownCount += count;
    this.settle(seq, count);
  }

  duplicate(seq: number, count: number): void {
    this.duplicateCount += count;
    this.settle(seq, count);
  }

  /** Sequences in [0, sent) with no outcome or with more than one. */
  unsettled(sent: number): { none: number[]; several: number[] } {
    const none: number[] = [];
    const several: number[] = [];
    for (let s = 0; s < sent; s++) {
      const n = this.perSeq.get(s) ?? 0;
      if (n === 0) none.push(s);
      else if (n > 1) several.push(s);
    }
    return { none, several };
  }

  private settle(seq: number, count: number): void {
    for (let s = seq; s < seq + count; s++) this.perSeq.set(s, (this.perSeq.get(s) ?? 0) + 1);
  }
}

/**
 * Sends sequences [from, to) of `producerId` in batches, as the harness does: one staging
 * buffer of template copies, stamped in place and reused after each send.
 */
export async function produce(p: Producer, producerId: number, from: number, to: number, batch = 100): Promise<void> {
  const template = encodeTemplate(SIZE, producerId);
  const staging = new Uint8Array(SIZE * batch);
  for (let i = 0; i < batch; i++) staging.set(template, i * SIZE);
  for (let seq = from; seq < to; seq += batch) {
    const n = Math.min(batch, to - seq);
    stampBatch(staging, SIZE, n, seq, 1, Date.now());
    const r = p.send({ bytes: staging.subarray(0, n * SIZE), size: SIZE, count: n, producerId, firstSeq: seq });
    if (r) await r;
  }
}

/** One delivered message: who sent it and its sequence. */
export interface Delivery {
  producer: number;
  seq: number;
}

export const key = (d: Delivery): string => `${d.producer}:${d.seq}`;

export interface ConsumeOptions {
  /** stop once this holds for what arrived so far (distinct messages) */
  until(seen: ReadonlySet<string>): boolean;
  /** false: receive only, never acknowledge (the consumer is closed with the batch outstanding) */
  ack?: boolean;
  /** give up after this long, returning what arrived */
  deadlineMs?: number;
  /** after `until` holds, keep receiving this long, so that a late duplicate shows */
  quietMs?: number;
}

/** Receives (and acks, unless told not to) until `until` holds or the deadline passes. */
export async function consume(c: Consumer, o: ConsumeOptions): Promise<Delivery[]> {
  const got: Delivery[] = [];
  const seen = new Set<string>();
  const deadline = Date.now() + (o.deadlineMs ?? 60_000);
  let quietUntil = Infinity;
  while (Date.now() < Math.min(deadline, quietUntil)) {
    const b = await c.receive(100, 50);
    record(b, got, seen);
    if (o.ack !== false) await c.ack(b);
    if (quietUntil === Infinity && o.until(seen)) quietUntil = Date.now() + (o.quietMs ?? 0);
  }
  return got;
}

function record(b: DeliveryBatch, got: Delivery[], seen: Set<string>): void {
  for (let i = 0; i < b.count; i++) {
    const d = { producer: readProducer(b.buffer(i), b.offset(i)), seq: readSeq(b.buffer(i), b.offset(i)) };
    got.push(d);
    seen.add(key(d));
  }
}

/** Sequences of one producer in the order they arrived. */
export const seqsOf = (got: Delivery[], producer: number): number[] => got.filter((d) => d.producer === producer).map((d) => d.seq);

export const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
