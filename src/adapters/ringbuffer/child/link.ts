/**
 * A worker's TCP connection to the ring server that reconnects by itself: after a loss
 * it retries with backoff (20 ms doubling to 200 ms) until closed, so a server restarted
 * on the same port is found again without anyone asking. Each connection has a new
 * generation number: whatever belonged to an older one (a delivery, an ack awaited) is
 * void.
 *
 * With several ports (the two servers of `replicas: 2`), each attempt after a failed or
 * lost connection goes to the next port: a secondary does not listen on its client port
 * until it has taken over, so the connection that succeeds is the primary's.
 */
import net from 'node:net';
import { FrameReader } from './frames.ts';
import { FRAME } from './protocol.ts';

export interface LinkHandlers {
  /** connected (again): the owner re-establishes its state (e.g. subscriptions) */
  onOpen(): void;
  onFrame(body: Buffer): void;
  /** the connection dropped; a reconnect follows unless the link was closed */
  onLost(reason: string): void;
}

const FIRST_BACKOFF_MS = 20;
/** short: a refused connect on 127.0.0.1 costs little, and the wait adds to the measured recovery time */
const MAX_BACKOFF_MS = 200;

export class Link {
  private socket: net.Socket | undefined;
  private open = false;
  private closed = false;
  private backoffMs = FIRST_BACKOFF_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastError = '';
  /** a protocol error the server reported: the owner throws it, since it is a bug, not a fault */
  serverError: string | undefined;
  generation = 0;
  private waiters: Array<() => void> = [];
  private readonly ports: readonly number[];
  /** index into ports of the current (or next) attempt */
  private at = 0;

  constructor(
    readonly host: string,
    ports: number | readonly number[],
    private readonly maxBody: number,
    private readonly handlers: LinkHandlers,
  ) {
    this.ports = typeof ports === 'number' ? [ports] : ports;
    this.connect();
  }

  /** the port of the current connection (or of the next attempt) */
  get port(): number {
    return this.ports[this.at]!;
  }

  get connected(): boolean {
    return this.open;
  }

  /** Resolves on the next change: connected, lost, or closed (or after `ms`). */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.push(done);
    });
  }

  /** Wakes whoever waits in changed(): the owner calls this when its own state moved (an ack came). */
  wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(frame: Buffer): boolean {
    if (!this.open || !this.socket) return false;
    this.socket.write(frame);
    return true;
  }

  close(): void {
    this.closed = true;
    this.open = false;
    clearTimeout(this.retryTimer);
    this.socket?.destroy();
    this.socket = undefined;
    this.wake();
  }

  describe(): string {
    return `${this.ports.map((p) => `${this.host}:${p}`).join(' or ')}${this.lastError ? ` (${this.lastError})` : ''}`;
  }

  private connect(): void {
    if (this.closed) return;
    const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
    this.socket = socket;
    const reader = new FrameReader(this.maxBody, (body) => {
      if (body[0] === FRAME.error) {
        this.serverError = body.toString('utf8', 1);
        socket.destroy();
        return;
      }
      this.handlers.onFrame(body);
    });
    socket.on('connect', () => {
      this.open = true;
      this.generation++;
      this.backoffMs = FIRST_BACKOFF_MS;
      this.lastError = '';
      this.handlers.onOpen();
      this.wake();
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (err) {
        this.lastError = (err as Error).message;
        socket.destroy();
      }
    });
    socket.on('error', (err) => {
      this.lastError = err.message;
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      const wasOpen = this.open;
      this.open = false;
      this.socket = undefined;
      if (wasOpen) this.handlers.onLost(`connection to the ring server lost${this.lastError ? ` (${this.lastError})` : ''}`);
      this.wake();
      if (this.closed) return;
      this.at = (this.at + 1) % this.ports.length;
      this.retryTimer = setTimeout(() => this.connect(), this.backoffMs);
      this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
    });
  }
}
