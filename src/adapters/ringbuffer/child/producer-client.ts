/**
 * A producer talking to the ring server. `send` writes PUBLISH frames and returns; acks
 * come back by request id and go to the AckSink.
 *
 *   - At most `maxInFlight` messages await an ack; send waits for room (back-pressure
 *     from a full lane reaches it this way).
 *   - A batch is cut into parts that each fit in a lane.
 *   - Connection lost: every publish awaiting an ack is kept and sent again, in order,
 *     as soon as the link is back, before anything new (as Pulsar's and Kafka's clients
 *     do). The server's deduplication keeps one highest sequence per lane, so it drops a
 *     re-send it already stored; a producer that moved on past a lost publish instead
 *     would leave a gap, and a later retry of the lost one would be taken for a
 *     duplicate and acknowledged without being stored. Only a flush deadline or close
 *     reports what is still unanswered as unknown. send waits for the reconnect; if the
 *     run stops meanwhile, the rest of the batch is reported failed, since it never left.
 *   - A stage > 0 producer forwards other producers' messages: each batch goes to the
 *     lanes of its origin producer.
 *   - With partitions, each run of a batch's messages that share a partition goes to
 *     that partition's lane (routing.ts).
 */
import type { AckSink, OutboundBatch, Producer, ProducerSpec } from '../../../core/contract.ts';
import { clientPorts, shapeOf, stageOf, type ChildInit } from '../init.ts';
import { laneIndex, type LaneShape } from '../lanes.ts';
import { BatchRouter } from '../routing.ts';
import { Link } from './link.ts';
import { ACK_FAILED, decodeAck, encodePublish, FRAME, FRAME_SLACK } from './protocol.ts';
import { BusbenchError } from '../../../core/errors.ts';

interface Pending {
  seq: number;
  count: number;
  /** the PUBLISH frame, kept to send again after a reconnect */
  frame: Buffer;
}

/** How often a waiting send looks at control.stopping() when nothing else wakes it. */
const POLL_MS = 20;

const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

export class ChildProducer implements Producer {
  private readonly link: Link;
  private readonly stage: number;
  private readonly shape: LaneShape;
  private readonly router: BatchRouter;
  private readonly pending = new Map<number, Pending>();
  private inFlight = 0;
  private nextReq = 1;

  constructor(
    private readonly init: ChildInit,
    private readonly spec: ProducerSpec,
    private readonly acks: AckSink,
  ) {
    this.stage = stageOf(spec, init.stages, `producer ${spec.producerId}`);
    this.shape = shapeOf(init);
    this.router = new BatchRouter(init.routing);
    // Acks only come back, so anything large is corrupt.
    this.link = new Link(init.host, clientPorts(init), FRAME_SLACK, {
      onOpen: () => this.resend(),
      onFrame: (body) => this.onFrame(body),
      // Unanswered publishes are kept for resend(); room() waits for the link, so nothing new overtakes them.
      onLost: () => this.link.wake(),
    });
  }

  /** Waits for the first connection, so that a run starts with every producer connected. */
  async connected(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.link.connected && Date.now() < until && !this.spec.control.stopping()) await this.link.changed(POLL_MS);
    if (!this.link.connected) {
      this.link.close();
      throw new BusbenchError('ADAPTER', `ringbuffer: producer ${this.spec.producerId} could not reach the ring server at ${this.link.describe()} within ${timeoutMs / 1000} s`);
    }
  }

  async send(batch: OutboundBatch): Promise<void> {
    // copied: the router reuses its array, and the sends below wait
    const runs = [...this.router.runs(batch.producerId, batch.firstSeq, batch.count)];
    for (let r = 0; r < runs.length; r += 3) {
      if (!(await this.sendRun(batch, this.laneFor(batch.producerId, runs[r]!), runs[r + 1]!, runs[r + 2]!))) return;
    }
    // One event-loop turn per batch, so acks are read (and timed) as they come rather
    // than only once the window is full.
    await yieldToEventLoop();
  }

  /** Messages from..from+count-1 of the batch to one lane, in parts; false if the run stopped first (the rest of the batch failed). */
  private async sendRun(batch: OutboundBatch, lane: number, from: number, count: number): Promise<boolean> {
    const { bytes, size } = batch;
    const firstSeq = batch.firstSeq + from;
    const partMax = Math.max(1, Math.min(this.spec.maxInFlight, size === 0 ? count : Math.floor(this.init.capacity / size)));
    let done = 0;
    while (done < count) {
      const n = Math.min(partMax, count - done);
      if (!(await this.room(n))) {
        this.acks.failed(firstSeq + done, batch.firstSeq + batch.count - firstSeq - done, 'run stopped while the ring server was unreachable or its lane full');
        return false;
      }
      const req = this.nextReq;
      this.nextReq = this.nextReq === 0xffffffff ? 1 : this.nextReq + 1;
      const at = from + done;
      const frame = encodePublish(req, lane, firstSeq + done, n, size, bytes.subarray(at * size, (at + n) * size));
      this.link.write(frame);
      this.pending.set(req, { seq: firstSeq + done, count: n, frame });
      this.inFlight += n;
      done += n;
    }
    return true;
  }

  async flush(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.pending.size > 0 && Date.now() < until && !this.spec.control.stopping()) await this.link.changed(Math.min(POLL_MS, until - Date.now()));
    // After the deadline an ack may still come; the ledger hears "unknown" now and nothing later.
    this.giveUp('no ack before the flush deadline');
  }

  async close(): Promise<void> {
    this.giveUp('producer closed before the ack came');
    this.link.close();
  }

  private laneFor(origin: number, partition: number): number {
    if (this.stage === 0 && origin !== this.spec.producerId) {
      throw new BusbenchError('ADAPTER', `ringbuffer: producer ${this.spec.producerId} sent a batch of producer ${origin}; only a stage > 0 producer forwards other producers' messages`);
    }
    if (!Number.isInteger(origin) || origin < 0 || origin >= this.init.producers) {
      throw new BusbenchError('ADAPTER', `ringbuffer: no lane for producer ${origin} (${this.init.producers} producers)`);
    }
    return laneIndex(this.shape, this.stage, partition, origin);
  }

  /** Waits until `n` more messages may be in flight on a live connection; false if the run stops first. */
  private async room(n: number): Promise<boolean> {
    for (;;) {
      if (this.link.serverError) throw new BusbenchError('ADAPTER', `ringbuffer: the ring server refused producer ${this.spec.producerId}: ${this.link.serverError}`);
      if (this.link.connected && (this.inFlight === 0 || this.inFlight + n <= this.spec.maxInFlight)) return true;
      if (this.spec.control.stopping()) return false;
      await this.link.changed(POLL_MS);
    }
  }

  private onFrame(body: Buffer): void {
    if (body[0] !== FRAME.ack) return;
    const a = decodeAck(body);
    const p = this.pending.get(a.reqId);
    if (!p) return;
    this.pending.delete(a.reqId);
    this.inFlight -= p.count;
    if (a.status === ACK_FAILED) this.acks.failed(p.seq, p.count, a.reason);
    else this.acks.acked(p.seq, p.count);
    this.link.wake();
  }

  /** Reconnected: every publish still unanswered goes again, oldest first (Map order is send order). */
  private resend(): void {
    for (const p of this.pending.values()) this.link.write(p.frame);
  }

  private giveUp(reason: string): void {
    for (const p of this.pending.values()) this.acks.unknown(p.seq, p.count, reason);
    this.pending.clear();
    this.inFlight = 0;
  }
}
