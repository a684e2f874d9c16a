/**
 * An inline producer. At stage 0 it writes its own lanes (one per partition, each
 * message to its partition's); at a later stage it is the stage's forwarder and writes
 * the lanes of each batch's origin producer (the stage has one forwarder, so each lane
 * still has a single writer). `send` returns once the whole
 * batch is in the ring, which is what "acked" means for a memory-only system, so acks are
 * reported inside it.
 *
 * Deduplication compares with the lane's last appended sequence, kept in the lane's
 * shared memory (layout.ts): a forwarder reopened after a crash sees what its
 * predecessor appended.
 */
import type { AckSink, OutboundBatch, Producer, RunControl } from '../../core/contract.ts';
import type { Lane } from './layout.ts';
import { LaneWriter, RoomParking } from './lane-writer.ts';
import { Waiter, type WaitMode } from './waiting.ts';
import type { BatchRouter } from './routing.ts';
import { BusbenchError } from '../../core/errors.ts';

/** The writing end of one lane, and the room to wait in when it is full. */
export interface LaneTarget {
  writer: LaneWriter;
  room: RoomParking;
}

export function laneTarget(lane: Lane, bell: Int32Array, bellIndex: number): LaneTarget {
  const writer = new LaneWriter(lane, bell, bellIndex);
  return { writer, room: new RoomParking(writer, lane) };
}

export class RingProducer implements Producer {
  /** public for its stats */
  readonly waiter: Waiter;

  constructor(
    /** the lane of origin producer `producerId` in `partition`, or an error naming why there is none */
    private readonly target: (producerId: number, partition: number) => LaneTarget,
    private readonly router: BatchRouter,
    wait: WaitMode,
    control: RunControl,
    private readonly acks: AckSink,
    private readonly dedup: boolean,
    sliceMs?: number,
  ) {
    this.waiter = new Waiter(wait, control, sliceMs);
  }

  send(batch: OutboundBatch): void {
    const runs = this.router.runs(batch.producerId, batch.firstSeq, batch.count);
    for (let r = 0; r < runs.length; r += 3) {
      if (!this.sendRun(batch, this.target(batch.producerId, runs[r]!), runs[r + 1]!, runs[r + 2]!)) return;
    }
  }

  /** Messages from..from+count-1 of the batch into one lane; false if the run stopped first (the rest of the batch failed). */
  private sendRun(batch: OutboundBatch, { writer, room }: LaneTarget, from: number, count: number): boolean {
    const { bytes, size } = batch;
    const firstSeq = batch.firstSeq + from;
    if (!writer.fitsAtAll(size)) {
      throw new BusbenchError('ADAPTER', `ringbuffer: a ${size}-byte message does not fit in a lane (raise ringbuffer.capacity)`);
    }
    let done = 0;
    if (this.dedup) {
      // The lane already holds these: acknowledged, since the system has them.
      done = Math.min(count, Math.max(0, writer.lastSeq() - firstSeq + 1));
      if (done > 0) this.acks.acked(firstSeq, done);
    }
    while (done < count) {
      const n = writer.write(bytes, from + done, size, count - done, firstSeq + done);
      if (n > 0) {
        this.acks.acked(firstSeq + done, n);
        done += n;
        continue;
      }
      room.payload = size;
      if (!this.waiter.until(room, Number.POSITIVE_INFINITY)) {
        this.acks.failed(firstSeq + done, batch.firstSeq + batch.count - firstSeq - done, 'run stopped');
        return false;
      }
    }
    return true;
  }

  /** Everything `send` accepted is already in the ring and acknowledged. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
