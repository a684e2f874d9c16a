/**
 * A consumer talking to the ring server: it subscribes to its lanes (lanes.ts says
 * which, within its stage) with a credit of messages, buffers what arrives, and
 * grants as much credit again as each receive hands out.
 *
 * Connection lost: what was buffered is dropped (the server delivers it again from the
 * committed offset, if it still has it), receive returns empty batches until the
 * reconnect, and acks of batches from the lost connection are ignored: their messages
 * come again. close() never commits anything.
 */
import { EMPTY_BATCH, type Consumer, type ConsumerSpec, type DeliveryBatch } from '../../../core/contract.ts';
import { clientPorts, shapeOf, stageOf, type ChildInit } from '../init.ts';
import { lanesOf, partitionOfLane } from '../lanes.ts';
import { ChildBatch, type Received } from './delivery.ts';
import { Link } from './link.ts';
import { decodeDeliver, encodeCommit, encodeCredit, encodeSubscribe, FRAME, FRAME_SLACK } from './protocol.ts';
import { BusbenchError } from '../../../core/errors.ts';

const POLL_MS = 20;
/** buffered deliveries in bytes, within message-count bounds */
const CREDIT_BYTES = 1 << 20;

export class ChildConsumer implements Consumer {
  private readonly link: Link;
  private readonly lanes: number[];
  private readonly credit: number;
  private queue: Received[] = [];
  private readonly batch: ChildBatch;

  constructor(
    init: ChildInit,
    private readonly spec: ConsumerSpec,
  ) {
    const stage = stageOf(spec, init.stages, `consumer ${spec.consumerId}`);
    if (spec.consumers !== init.consumers || spec.producers !== init.producers) {
      throw new BusbenchError('ADAPTER', 
        `ringbuffer: consumer ${spec.consumerId} was started for ${spec.producers} producers and ${spec.consumers} consumers, ` +
          `but the ring was opened for ${init.producers} and ${init.consumers}`,
      );
    }
    const shape = shapeOf(init);
    this.lanes = lanesOf(shape, spec.consumerId, stage);
    // With partitions a producer's messages are in order within a partition only: each message names its partition.
    this.batch = new ChildBatch(init.routing ? (lane) => partitionOfLane(shape, lane) : undefined);
    if (this.lanes.length === 0) throw new BusbenchError('ADAPTER', `ringbuffer: consumer ${spec.consumerId} of ${spec.consumers} has no lane (${init.producers} producers)`);
    this.credit = Math.max(64, Math.min(4096, Math.floor(CREDIT_BYTES / Math.max(1, spec.messageSize))));
    this.link = new Link(init.host, clientPorts(init), init.capacity + FRAME_SLACK, {
      onOpen: () => {
        this.queue = [];
        this.link.write(encodeSubscribe(this.credit, this.lanes));
      },
      onFrame: (body) => {
        if (body[0] !== FRAME.deliver) return;
        this.queue.push({ ...decodeDeliver(body), taken: 0 });
        this.link.wake();
      },
      onLost: () => {
        this.queue = [];
      },
    });
  }

  /** Waits for the first connection, so that a run starts with every consumer subscribed. */
  async connected(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.link.connected && Date.now() < until && !this.spec.control.stopping()) await this.link.changed(POLL_MS);
    if (!this.link.connected) {
      this.link.close();
      throw new BusbenchError('ADAPTER', `ringbuffer: consumer ${this.spec.consumerId} could not reach the ring server at ${this.link.describe()} within ${timeoutMs / 1000} s`);
    }
  }

  receive(max: number, maxWaitMs: number): DeliveryBatch | Promise<DeliveryBatch> {
    if (this.link.serverError) throw new BusbenchError('ADAPTER', `ringbuffer: the ring server refused consumer ${this.spec.consumerId}: ${this.link.serverError}`);
    if (this.queue.length > 0) return this.take(max);
    if (maxWaitMs <= 0) return EMPTY_BATCH;
    return this.wait(max, maxWaitMs);
  }

  /** Commits, per lane of the batch, the offset past its last message. */
  ack(batch: DeliveryBatch): void {
    if (!(batch instanceof ChildBatch) || batch.generation !== this.link.generation || !this.link.connected) return;
    for (const [lane, offset] of batch.commits) this.link.write(encodeCommit(lane, offset));
  }

  async close(): Promise<void> {
    this.link.close();
  }

  private async wait(max: number, maxWaitMs: number): Promise<DeliveryBatch> {
    const until = Date.now() + maxWaitMs;
    while (this.queue.length === 0 && !this.spec.control.stopping()) {
      const left = until - Date.now();
      if (left <= 0) return EMPTY_BATCH;
      await this.link.changed(Math.min(POLL_MS, left));
    }
    return this.queue.length > 0 ? this.take(max) : EMPTY_BATCH;
  }

  private take(max: number): DeliveryBatch {
    this.batch.fill(this.queue, max, this.link.generation);
    if (this.batch.count > 0) this.link.write(encodeCredit(this.batch.count));
    return this.batch;
  }
}
