/**
 * The primary's side of `replicas: 2`: streams every append and commit to the secondary
 * and holds each producer's ack until the secondary has stored (and, journaled, synced)
 * it, on top of the primary's own sync.
 *
 * The secondary is in the replica set from the moment its connection opens: it first
 * gets every lane's backlog ([committed, appended), the catch-up), then each append as it
 * comes, in offset order per lane, and acknowledges by offset. When its connection drops
 * (the secondary died), the primary acknowledges on its own sync alone until a secondary
 * connects again and has caught up with what is waiting: as a Kafka partition goes on
 * with a shrunk in-sync set. A primary that kept waiting for a dead secondary would turn a
 * kill of either replica into an outage. The link reconnects by itself (child/link.ts),
 * so a restarted secondary is found again.
 */
import { Link } from '../child/link.ts';
import { FRAME_SLACK } from '../child/protocol.ts';
import type { LaneLog } from './lane-log.ts';
import { decodeLaneOffset, encodeAppendHeader, encodeHello, encodeReplCommit, encodeReset, encodeSynced, REPL } from './replication-frames.ts';

interface Waiting {
  end: number;
  release: () => void;
}

export class Replicator {
  private readonly link: Link;
  /** per lane: the secondary holds everything below this offset */
  private readonly upTo: number[];
  /** per lane: acks waiting for the secondary, in offset order */
  private readonly waiting: Waiting[][];

  constructor(
    host: string,
    peerReplPort: number,
    private readonly lanes: readonly LaneLog[],
    private readonly log: (line: string) => void,
  ) {
    this.upTo = lanes.map(() => 0);
    this.waiting = lanes.map(() => []);
    this.link = new Link(host, peerReplPort, FRAME_SLACK, {
      onOpen: () => this.catchUp(),
      onFrame: (body) => {
        if (body[0] !== REPL.ack) return;
        const { lane, offset } = decodeLaneOffset(body);
        this.acked(lane, offset);
      },
      onLost: (reason) => {
        this.log(`secondary lost (${reason}): acknowledging on this replica alone until one has caught up again`);
        for (const w of this.waiting) for (const x of w.splice(0)) x.release();
      },
    });
  }

  /** a secondary is connected: acks wait for it */
  get inSync(): boolean {
    return this.link.connected;
  }

  /** Runs `release` once the secondary holds the lane below `end` (now, if it does or there is none). */
  whenReplicated(lane: number, end: number, release: () => void): void {
    if (!this.link.connected || this.upTo[lane]! >= end) release();
    else this.waiting[lane]!.push({ end, release });
  }

  append(lane: number, firstOffset: number, firstSeq: number, count: number, size: number, payload: Buffer): void {
    if (!this.link.connected) return;
    this.link.write(encodeAppendHeader(lane, firstOffset, firstSeq, count, size));
    this.link.write(payload);
  }

  commit(lane: number, offset: number): void {
    this.link.write(encodeReplCommit(lane, offset));
  }

  close(): void {
    this.link.close();
  }

  private acked(lane: number, upTo: number): void {
    if (upTo <= this.upTo[lane]!) return;
    this.upTo[lane] = upTo;
    const w = this.waiting[lane]!;
    let n = 0;
    while (n < w.length && w[n]!.end <= upTo) n++;
    for (const x of w.splice(0, n)) x.release();
  }

  /** A secondary connected: it starts empty, so it gets every lane's backlog before anything new. */
  private catchUp(): void {
    this.link.write(encodeHello());
    let messages = 0;
    this.lanes.forEach((lane, l) => {
      this.upTo[l] = lane.committed;
      this.link.write(encodeReset(l, lane.committed, lane.lastSeq));
      for (const c of lane.backlog()) {
        this.append(l, c.firstOffset, c.firstSeq, c.count, c.size, c.bytes);
        messages += c.count;
      }
    });
    this.link.write(encodeSynced());
    this.log(`secondary connected: sent it ${messages} messages of backlog to catch up`);
  }
}
