/**
 * A consumer serving one or more lanes (lanes.ts says which), round-robin: each
 * receive starts at the lane after the one served last, so a busy lane cannot starve
 * the others. A batch comes from a single lane, so its messages share one buffer.
 */
import { monoNs } from '../../core/clock.ts';
import { EMPTY_BATCH, type Consumer, type DeliveryBatch, type RunControl } from '../../core/contract.ts';
import type { Lane } from './layout.ts';
import { LaneBatch, LaneReader } from './lane-reader.ts';
import { Waiter, type Parking, type WaitMode } from './waiting.ts';
import { BusbenchError } from '../../core/errors.ts';

/** A consumer waiting for data on any of its lanes: it sleeps on its doorbell. */
class DataParking implements Parking {
  constructor(
    private readonly readers: LaneReader[],
    private readonly lanes: Lane[],
    readonly word: Int32Array,
    readonly index: number,
  ) {}

  ready(): boolean {
    for (const r of this.readers) if (r.hasData()) return true;
    return false;
  }

  arm(): number {
    const bell = Atomics.load(this.word, this.index);
    for (const l of this.lanes) Atomics.store(l.words, l.at.consumerParked, 1);
    return bell;
  }

  disarm(): void {
    for (const l of this.lanes) Atomics.store(l.words, l.at.consumerParked, 0);
  }
}

export class RingConsumer implements Consumer {
  private readonly readers: LaneReader[];
  private readonly parking: DataParking;
  /** public for its stats */
  readonly waiter: Waiter;
  private next = 0;

  /** `partitions`: each lane's partition, where the run has more than one */
  constructor(lanes: Lane[], bell: Int32Array, bellIndex: number, wait: WaitMode, control: RunControl, sliceMs?: number, partitions?: readonly number[]) {
    if (lanes.length === 0) throw new BusbenchError('ADAPTER', 'ringbuffer: a consumer needs at least one lane');
    this.readers = lanes.map((l, i) => new LaneReader(l, partitions?.[i]));
    this.parking = new DataParking(this.readers, lanes, bell, bellIndex);
    this.waiter = new Waiter(wait, control, sliceMs);
  }

  receive(max: number, maxWaitMs: number): DeliveryBatch {
    const first = this.poll(max);
    if (first || maxWaitMs <= 0) return first ?? EMPTY_BATCH;
    const untilNs = monoNs() + maxWaitMs * 1e6;
    while (this.waiter.until(this.parking, untilNs)) {
      const b = this.poll(max);
      if (b) return b;
    }
    return EMPTY_BATCH;
  }

  /** Commits the consumer offset of the batch's lane past everything delivered from it. */
  ack(batch: DeliveryBatch): void {
    if (batch instanceof LaneBatch) batch.reader.commit();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private poll(max: number): LaneBatch | undefined {
    const readers = this.readers;
    for (let k = 0; k < readers.length; k++) {
      const r = readers[this.next]!;
      this.next = this.next + 1 === readers.length ? 0 : this.next + 1;
      if (!r.hasData()) continue;
      const b = r.read(max);
      if (b.count > 0) return b;
    }
    return undefined;
  }
}
