/**
 * A producer writing its own lane. `send` returns once the whole batch is in the ring,
 * which is what "acked" means for a memory-only system, so acks are reported inside it.
 */
import type { AckSink, OutboundBatch, Producer, RunControl } from '../../core/contract.ts';
import type { Lane } from './layout.ts';
import { LaneWriter, RoomParking } from './lane-writer.ts';
import { Waiter, type WaitMode } from './waiting.ts';

export class RingProducer implements Producer {
  private readonly writer: LaneWriter;
  private readonly room: RoomParking;
  /** public for its stats */
  readonly waiter: Waiter;

  constructor(
    lane: Lane,
    bell: Int32Array,
    bellIndex: number,
    wait: WaitMode,
    control: RunControl,
    private readonly acks: AckSink,
    sliceMs?: number,
  ) {
    this.writer = new LaneWriter(lane, bell, bellIndex);
    this.room = new RoomParking(this.writer, lane);
    this.waiter = new Waiter(wait, control, sliceMs);
  }

  send(batch: OutboundBatch): void {
    const { bytes, size, count, firstSeq } = batch;
    if (!this.writer.fitsAtAll(size)) {
      throw new Error(`ringbuffer: a ${size}-byte message does not fit in a lane (raise ringbuffer.capacity)`);
    }
    let done = 0;
    while (done < count) {
      const n = this.writer.write(bytes, done, size, count - done);
      if (n > 0) {
        this.acks.acked(firstSeq + done, n);
        done += n;
        continue;
      }
      this.room.payload = size;
      if (!this.waiter.until(this.room, Number.POSITIVE_INFINITY)) {
        this.acks.failed(firstSeq + done, count - done, 'run stopped');
        return;
      }
    }
  }

  /** Everything `send` accepted is already in the ring and acknowledged. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
