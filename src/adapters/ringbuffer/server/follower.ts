/**
 * The secondary's side of `replicas: 2`: listens on its replication port, takes the
 * primary's stream (replication-frames.ts) into its own lanes and journal, and
 * acknowledges each append by offset once it is stored (synced, when journaled).
 *
 * The primary is the first connection to say HELLO (a port probe that says nothing is
 * not); a second one is refused. When the primary's connection closes, the primary is
 * gone (on loopback nothing else closes it: a protocol error ends the process instead, see
 * onFatal), and the secondary takes over if it had caught up: it held every lane's
 * backlog, synced, so every acknowledged message. One that had not cannot take over.
 */
import net from 'node:net';
import { FrameReader } from '../child/frames.ts';
import { BusbenchError } from '../../../core/errors.ts';
import { decodeAppend, decodeLaneOffset, decodeReset, encodeReplAck, encodeStatusReply, REPL, type ReplAppend } from './replication-frames.ts';

/** What the follower writes into: the ring server's lanes and journals. */
export interface ReplicaStore {
  /** the lane starts empty at `committed` */
  reset(lane: number, committed: number, lastSeq: number): void;
  /** stores the append at its offset; `done` once it is stored (and synced) */
  append(a: ReplAppend, done: () => void): void;
  commit(lane: number, offset: number): void;
  /** `done` once everything stored so far is synced */
  whenAllDurable(done: () => void): void;
}

export class Follower {
  private server: net.Server | undefined;
  private primary: net.Socket | undefined;
  private caughtUp = false;
  private corked = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly maxBody: number,
    private readonly store: ReplicaStore,
    private readonly log: (line: string) => void,
    /** a broken stream: the process must end rather than take over with a wrong copy */
    private readonly onFatal: (err: Error) => void,
    private readonly onPrimaryLost: (caughtUp: boolean) => void,
  ) {}

  listen(): Promise<number> {
    const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => resolve(this.port));
    });
  }

  close(): void {
    this.server?.close();
    this.primary?.destroy();
  }

  private accept(socket: net.Socket): void {
    let hello = false;
    const reader = new FrameReader(this.maxBody, (body) => {
      if (!hello) {
        if (body[0] === REPL.status) return void socket.end(encodeStatusReply(this.caughtUp));
        if (body[0] !== REPL.hello) throw new BusbenchError('BROKER', `replication: expected HELLO, got frame type ${body[0]}`);
        if (this.primary) throw new BusbenchError('BROKER', 'replication: a second primary connected while the first is still there');
        hello = true;
        this.primary = socket;
        this.log('primary connected: catching up');
        return;
      }
      this.frame(body);
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (err) {
        if (hello) this.onFatal(err as Error);
        else socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (!hello || this.primary !== socket) return;
      this.primary = undefined;
      this.server?.close();
      this.onPrimaryLost(this.caughtUp);
    });
  }

  private frame(body: Buffer): void {
    switch (body[0]) {
      case REPL.reset: {
        const r = decodeReset(body);
        this.store.reset(r.lane, r.committed, r.lastSeq);
        return;
      }
      case REPL.append: {
        const a = decodeAppend(body);
        const end = a.firstOffset + a.count;
        this.store.append(a, () => this.send(encodeReplAck(a.lane, end)));
        return;
      }
      case REPL.commit: {
        const c = decodeLaneOffset(body);
        this.store.commit(c.lane, c.offset);
        return;
      }
      case REPL.synced:
        this.store.whenAllDurable(() => {
          this.caughtUp = true;
          this.log('caught up with the primary: can take over');
        });
        return;
      default:
        throw new BusbenchError('BROKER', `replication: unknown frame type ${body[0]}`);
    }
  }

  /** Acks of one event-loop turn leave in one write. */
  private send(frame: Buffer): void {
    const s = this.primary;
    if (!s || s.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      s.cork();
      process.nextTick(() => {
        this.corked = false;
        s.uncork();
      });
    }
    s.write(frame);
  }
}
