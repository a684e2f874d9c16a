/**
 * One client connection to the ring server: frames in, in order. A producer's publish
 * that finds its lane full waits at the head of the connection's input, and the socket
 * is paused, so TCP pushes the back-pressure to the producer; frames behind it wait too,
 * which keeps each connection's publishes in order.
 *
 * A consumer connection holds its subscribed lanes, a delivery cursor per lane and its
 * credit; the server (server.ts) decides what to send.
 */
import type net from 'node:net';
import { FrameReader } from '../child/frames.ts';
import { encodeError } from '../child/protocol.ts';

/** 'blocked': the frame must wait (its lane is full) and be handled again later. */
export type FrameResult = 'done' | 'blocked';

export class Connection {
  private readonly reader: FrameReader;
  private readonly waiting: Buffer[] = [];
  private corked = false;
  /** lane -> next offset to deliver, for the lanes this connection consumes */
  readonly cursors = new Map<number, number>();
  /** round-robin position among the cursors */
  nextLane = 0;
  credit = 0;
  /** the socket's buffer is full: deliveries wait for 'drain' */
  congested = false;
  closed = false;

  constructor(
    readonly socket: net.Socket,
    maxBody: number,
    private readonly handle: (c: Connection, body: Buffer) => FrameResult,
  ) {
    this.reader = new FrameReader(maxBody, (body) => this.incoming(body));
  }

  push(chunk: Buffer): void {
    this.corkForThisTurn();
    try {
      this.reader.push(chunk);
    } catch (err) {
      this.fail((err as Error).message);
    }
  }

  /** Handles frames that waited, until one has to wait again. */
  retry(): void {
    if (this.closed) return;
    this.corkForThisTurn();
    while (this.waiting.length > 0) {
      if (this.run(this.waiting[0]!) === 'blocked') return;
      this.waiting.shift();
    }
    this.socket.resume();
  }

  get blocked(): boolean {
    return this.waiting.length > 0;
  }

  send(frame: Buffer): boolean {
    if (this.closed || this.socket.destroyed) return false;
    this.corkForThisTurn();
    const ok = this.socket.write(frame);
    if (!ok) this.congested = true;
    return ok;
  }

  /** Tells the client what was wrong and closes the connection. */
  fail(reason: string): void {
    if (this.closed) return;
    this.socket.end(encodeError(reason));
    this.closed = true;
  }

  private incoming(body: Buffer): void {
    if (this.closed) return;
    if (this.waiting.length > 0 || this.run(body) === 'blocked') {
      this.waiting.push(body);
      this.socket.pause();
    }
  }

  private run(body: Buffer): FrameResult {
    try {
      return this.handle(this, body);
    } catch (err) {
      this.fail((err as Error).message);
      return 'done';
    }
  }

  /** Writes during one callback leave in as few syscalls as possible. */
  private corkForThisTurn(): void {
    if (this.corked || this.socket.destroyed) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }
}
