/**
 * The ring server: owns every lane, takes publishes, acknowledges them (after the
 * journal's fsync when journaled), and delivers to the consumer subscribed to each lane.
 *
 * Delivery restarts at a lane's committed offset whenever a consumer subscribes: what was
 * delivered and not committed is delivered again, to the same consumer after a
 * reconnect or to the next one after a close. A subscription to a lane someone else
 * holds takes it over (the old connection may not have been noticed as closed yet).
 *
 * With `replicas: 2` (config.replica) the server is one of two: as the primary it
 * serves clients and holds each ack until the secondary has the append too
 * (replicator.ts); as the secondary it serves no client, only the primary's stream
 * (follower.ts), into a data directory it empties at its start (it gets everything again
 * from the primary), and it starts serving clients when the primary is gone.
 */
import fs from 'node:fs';
import net from 'node:net';
import type { ServerConfig } from './config.ts';
import { Connection, type FrameResult } from './connection.ts';
import { LaneLog } from './lane-log.ts';
import { LaneJournal } from './journal.ts';
import { recoverLane } from './recovery.ts';
import { Replicator } from './replicator.ts';
import { Follower } from './follower.ts';
import { SecondaryLanes } from './secondary-lanes.ts';
import {
  ACK_DUPLICATE,
  ACK_FAILED,
  ACK_STORED,
  decodeCommit,
  decodePublish,
  decodeSubscribe,
  encodeAck,
  encodeDeliverHeader,
  encodeStatsReply,
  FRAME,
  FRAME_SLACK,
} from '../child/protocol.ts';
import { BusbenchError } from '../../../core/errors.ts';

export class RingServer {
  private readonly lanes: LaneLog[];
  private readonly journals: LaneJournal[] | undefined;
  /** the consumer connection of each lane */
  private readonly subscriber: Array<Connection | undefined>;
  /** producer connections whose head publish waits for room, per lane */
  private readonly waitingForRoom: Array<Set<Connection>>;
  private readonly connections = new Set<Connection>();
  private readonly dirty = new Set<LaneJournal>();
  private flushScheduled = false;
  private server: net.Server | undefined;
  private replicator: Replicator | undefined;
  private follower: Follower | undefined;

  constructor(
    private readonly config: ServerConfig,
    private readonly log: (line: string) => void,
    private readonly onFatal: (err: Error) => void,
  ) {
    const n = config.lanes;
    if (config.replica?.role === 'secondary') emptyDirectory(config.dataDir);
    this.lanes = Array.from({ length: n }, () => new LaneLog(config.capacity, config.dedup));
    this.subscriber = new Array<Connection | undefined>(n).fill(undefined);
    this.waitingForRoom = Array.from({ length: n }, () => new Set<Connection>());
    if (config.journal === 'fsync') {
      fs.mkdirSync(config.dataDir, { recursive: true });
      this.journals = this.lanes.map((lane, i) => {
        const r = recoverLane(config.dataDir, i);
        lane.restore(r.committed, r.appended, r.lastSeq, r.chunks);
        if (r.appended > 0 || r.truncated > 0) {
          log(`lane ${i}: recovered ${r.appended} messages stored, ${r.committed} committed, last seq ${r.lastSeq}${r.truncated ? `, cut a torn tail of ${r.truncated} bytes` : ''}`);
        }
        return new LaneJournal(config.dataDir, i, r.segments, r.appended, onFatal);
      });
    }
  }

  /** Starts serving: clients (a lone server or the primary), or the primary's stream (the secondary). */
  listen(): Promise<number> {
    const r = this.config.replica;
    if (r?.role !== 'secondary') return this.serve();
    const maxBody = this.config.capacity + FRAME_SLACK;
    const store = new SecondaryLanes(this.lanes, this.journals, this.config.dataDir, this.onFatal, (j, fn) => this.inGroupCommit(j, fn));
    this.follower = new Follower(this.config.host, r.replPort, maxBody, store, this.log, this.onFatal, (caughtUp) => this.primaryLost(caughtUp));
    return this.follower.listen();
  }

  private primaryLost(caughtUp: boolean): void {
    if (!caughtUp) return this.onFatal(new BusbenchError('BROKER', 'the primary is gone before this secondary had caught up with it: it cannot take over'));
    this.log('the primary is gone: taking over');
    this.serve().then(
      (port) => this.log(`listening on ${this.config.host}:${port} as the primary`),
      (err: unknown) => this.onFatal(err as Error),
    );
  }

  private serve(): Promise<number> {
    const r = this.config.replica;
    if (r) this.replicator = new Replicator(this.config.host, r.peerReplPort, this.lanes, this.log);
    const maxBody = this.config.capacity + FRAME_SLACK;
    const server = net.createServer({ noDelay: true }, (socket) => {
      const conn = new Connection(socket, maxBody, (c, body) => this.handle(c, body));
      this.connections.add(conn);
      socket.on('data', (chunk: Buffer) => conn.push(chunk));
      socket.on('drain', () => {
        conn.congested = false;
        this.deliver(conn);
      });
      socket.on('error', () => socket.destroy());
      socket.on('close', () => this.dropConnection(conn));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.host, () => {
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : this.config.port);
      });
    });
  }

  close(): void {
    this.server?.close();
    this.replicator?.close();
    this.follower?.close();
    for (const c of this.connections) c.socket.destroy();
    for (const j of this.journals ?? []) j.close();
  }

  private handle(c: Connection, body: Buffer): FrameResult {
    switch (body[0]) {
      case FRAME.publish:
        return this.publish(c, body);
      case FRAME.subscribe:
        this.subscribe(c, body);
        return 'done';
      case FRAME.credit:
        c.credit += body.readUInt32LE(1);
        this.deliver(c);
        return 'done';
      case FRAME.commit:
        this.commit(c, body);
        return 'done';
      case FRAME.stats:
        c.send(encodeStatsReply(body.readUInt32LE(1), this.lanes.map((l) => ({ appended: l.appended, committed: l.committed, lastSeq: l.lastSeq }))));
        return 'done';
      default:
        throw new BusbenchError('BROKER', `unknown frame type ${body[0]}`);
    }
  }

  private publish(c: Connection, body: Buffer): FrameResult {
    const p = decodePublish(body);
    const lane = this.lanes[p.lane];
    const bytes = p.count * p.size;
    if (!lane) {
      c.send(encodeAck(p.reqId, ACK_FAILED, `no lane ${p.lane} (the server has ${this.lanes.length})`));
      return 'done';
    }
    if (p.count === 0 || bytes > lane.capacity) {
      c.send(encodeAck(p.reqId, ACK_FAILED, `a publish of ${p.count} x ${p.size} bytes does not fit in a lane of ${lane.capacity} bytes`));
      return 'done';
    }
    const dup = lane.duplicates(p.firstSeq, p.count);
    const journal = this.journals?.[p.lane];
    if (dup === p.count) {
      // The lane has them; acknowledge once they are as safe as what it acknowledged before.
      const end = lane.appended;
      const ack = (): void => this.replicated(p.lane, end, () => void c.send(encodeAck(p.reqId, ACK_DUPLICATE)));
      if (journal) this.inGroupCommit(journal, () => journal.whenDurable(ack));
      else ack();
      return 'done';
    }
    if (!lane.hasRoom((p.count - dup) * p.size)) {
      this.waitingForRoom[p.lane]!.add(c);
      return 'blocked';
    }
    this.waitingForRoom[p.lane]!.delete(c);
    const count = p.count - dup;
    const firstSeq = p.firstSeq + dup;
    const payload = dup === 0 ? p.payload : p.payload.subarray(dup * p.size);
    const firstOffset = lane.append(firstSeq, count, p.size, payload);
    this.replicator?.append(p.lane, firstOffset, firstSeq, count, p.size, payload);
    // Visible to consumers only once acknowledged: what a consumer saw survives the primary.
    const stored = (): void =>
      this.replicated(p.lane, firstOffset + count, () => {
        lane.makeVisible(firstOffset + count);
        c.send(encodeAck(p.reqId, ACK_STORED));
        const sub = this.subscriber[p.lane];
        if (sub) this.deliver(sub);
      });
    if (journal) this.inGroupCommit(journal, () => journal.append(firstOffset, firstSeq, count, p.size, payload, stored));
    else stored();
    return 'done';
  }

  private subscribe(c: Connection, body: Buffer): void {
    const s = decodeSubscribe(body);
    for (const l of s.lanes) {
      const lane = this.lanes[l];
      if (!lane) throw new BusbenchError('BROKER', `SUBSCRIBE to lane ${l}: the server has ${this.lanes.length}`);
      const old = this.subscriber[l];
      if (old && old !== c) old.cursors.delete(l);
      this.subscriber[l] = c;
      c.cursors.set(l, lane.committed);
    }
    c.credit += s.credit;
    this.deliver(c);
  }

  private commit(c: Connection, body: Buffer): void {
    const { lane: l, offset } = decodeCommit(body);
    const cursor = c.cursors.get(l);
    // A lane taken over by another consumer is no longer this one's to commit.
    if (cursor === undefined || this.subscriber[l] !== c) return;
    const lane = this.lanes[l]!;
    const before = lane.committed;
    const committed = lane.commit(Math.min(offset, cursor));
    if (committed === before) return;
    const journal = this.journals?.[l];
    if (journal) {
      journal.commit(committed);
      this.inGroupCommit(journal, () => undefined);
    }
    this.replicator?.commit(l, committed);
    const waiting = this.waitingForRoom[l]!;
    for (const w of [...waiting]) {
      waiting.delete(w);
      w.retry();
    }
  }

  /** Sends what the connection's lanes hold, round-robin, as far as credit and the socket allow. */
  private deliver(c: Connection): void {
    const lanes = [...c.cursors.keys()];
    let idle = 0;
    while (c.credit > 0 && !c.congested && !c.closed && lanes.length > 0 && idle < lanes.length) {
      c.nextLane = c.nextLane >= lanes.length - 1 ? 0 : c.nextLane + 1;
      const l = lanes[c.nextLane]!;
      const at = c.cursors.get(l)!;
      const slice = this.lanes[l]!.read(at, c.credit);
      if (!slice) {
        idle++;
        continue;
      }
      idle = 0;
      c.send(encodeDeliverHeader(l, at, slice.count, slice.size));
      for (const part of slice.parts) c.send(part);
      c.cursors.set(l, at + slice.count);
      c.credit -= slice.count;
    }
  }

  /** Runs `fn` now, and flushes the journal once this event-loop turn is over (group commit). */
  private inGroupCommit(journal: LaneJournal, fn: () => void): void {
    fn();
    this.dirty.add(journal);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const dirty = [...this.dirty];
      this.dirty.clear();
      for (const j of dirty) {
        j.writeCommit();
        j.flush();
      }
    });
  }

  /** Runs `fn` once the secondary holds the lane below `end` too (at once without one). */
  private replicated(lane: number, end: number, fn: () => void): void {
    if (this.replicator) this.replicator.whenReplicated(lane, end, fn);
    else fn();
  }

  private dropConnection(c: Connection): void {
    c.closed = true;
    this.connections.delete(c);
    for (const l of c.cursors.keys()) if (this.subscriber[l] === c) this.subscriber[l] = undefined;
    for (const w of this.waitingForRoom) w.delete(c);
  }
}

/** A secondary starts empty: the primary sends it everything again (its old copy may have diverged). */
function emptyDirectory(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir)) fs.rmSync(`${dir}/${name}`, { recursive: true, force: true });
}
