/**
 * What a child-mode consumer hands out: views into the DELIVER frames it received (no
 * copies), and per lane the offset its ack commits.
 */
import type { DeliveryBatch } from '../../../core/contract.ts';
import type { Delivery } from './protocol.ts';

/** A received DELIVER frame and how much of it was handed out. */
export interface Received extends Delivery {
  taken: number;
}

export class ChildBatch implements DeliveryBatch {
  count = 0;
  /** the link generation it was delivered on: an ack on a later connection is void */
  generation = 0;
  private bufs: Buffer[] = [];
  private offs: number[] = [];
  private lens: number[] = [];
  private from: number[] = [];
  /** lane -> offset after the last message of that lane in this batch */
  readonly commits = new Map<number, number>();
  /** with partitions: the partition message i came through (its ordering domain) */
  readonly lane?: (i: number) => number;

  /** `partitionOf`: a server lane's partition, where the run has more than one */
  constructor(partitionOf?: (lane: number) => number) {
    if (partitionOf) this.lane = (i) => partitionOf(this.from[i]!);
  }

  buffer(i: number): Uint8Array {
    return this.bufs[i]!;
  }

  offset(i: number): number {
    return this.offs[i]!;
  }

  length(i: number): number {
    return this.lens[i]!;
  }

  /** Fills the batch with up to `max` messages from the head of `queue`, consuming them. */
  fill(queue: Received[], max: number, generation: number): void {
    this.count = 0;
    this.bufs.length = 0;
    this.offs.length = 0;
    this.lens.length = 0;
    this.from.length = 0;
    this.commits.clear();
    this.generation = generation;
    while (this.count < max && queue.length > 0) {
      const d = queue[0]!;
      const n = Math.min(d.count - d.taken, max - this.count);
      for (let i = 0; i < n; i++) {
        this.bufs.push(d.body);
        this.offs.push(d.start + (d.taken + i) * d.size);
        this.lens.push(d.size);
        if (this.lane) this.from.push(d.lane);
      }
      d.taken += n;
      this.count += n;
      this.commits.set(d.lane, d.firstOffset + d.taken);
      if (d.taken === d.count) queue.shift();
    }
  }
}
