/**
 * The socket, kept thin: the protocol code above it sees only a byte pipe, so tests can
 * run it over anything (a scripted broker, a pipe that drops mid-stream).
 */
import net from 'node:net';
import { connectionError, invalidError, timeoutError } from './errors.ts';

export interface Transport {
  /** "host:port" of the peer, for messages */
  readonly remote: string;
  /** Queues bytes for sending; never blocks. Frames written in one tick go out together. */
  write(bytes: Uint8Array): void;
  /** bytes queued and not yet handed to the kernel */
  readonly bufferedBytes: number;
  /** Flushes and closes the sending side. */
  end(): void;
  /** Closes at once. */
  destroy(err?: Error): void;
  /** Registers the (single) receiver of incoming bytes and of the close. */
  attach(onData: (chunk: Uint8Array) => void, onClose: (err: Error | undefined) => void): void;
}

export type TransportFactory = (host: string, port: number, timeoutMs: number) => Promise<Transport>;

/** A broker address from a service URL, e.g. "pulsar://127.0.0.1:6650". */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Parses "pulsar://host:port" (the first host of a comma-separated list). TLS
 * (pulsar+ssl://) is not implemented: busbench talks to brokers on the same host.
 */
export function parseServiceUrl(url: string): HostPort {
  const m = /^pulsar:\/\/(\[[^\]]+\]|[^:/,]+)(?::(\d+))?(?:,[^/]*)?\/?$/.exec(url.trim());
  if (!m) {
    if (url.startsWith('pulsar+ssl://')) throw invalidError(`pulsar: TLS service URLs are not supported (${url})`);
    throw invalidError(`pulsar: not a service URL: ${JSON.stringify(url)} (expected pulsar://host:port)`);
  }
  const host = m[1]!.replace(/^\[|\]$/g, '');
  return { host, port: m[2] ? Number(m[2]) : 6650 };
}

class TcpTransport implements Transport {
  private corked = false;
  private failure: Error | undefined;
  private closed = false;
  private onClose: ((err: Error | undefined) => void) | undefined;
  readonly remote: string;

  constructor(private readonly socket: net.Socket) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    // Listening from the start: an 'error' event without a listener would crash the process.
    socket.on('error', (err) => (this.failure ??= err));
    socket.on('close', () => {
      this.closed = true;
      this.onClose?.(this.failure);
    });
  }

  write(bytes: Uint8Array): void {
    // Cork until the end of the tick: a burst of frames becomes one writev syscall.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(bytes);
  }

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  end(): void {
    this.socket.end();
  }

  destroy(err?: Error): void {
    this.socket.destroy(err);
  }

  attach(onData: (chunk: Uint8Array) => void, onClose: (err: Error | undefined) => void): void {
    this.socket.on('data', onData);
    this.onClose = onClose;
    if (this.closed) onClose(this.failure);
  }
}

export const tcpTransport: TransportFactory = (host, port, timeoutMs) =>
  new Promise<Transport>((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(timeoutError(`pulsar: connecting to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setKeepAlive(true, 30_000);
      // Paused until attach() adds a 'data' listener, so no bytes are dropped meanwhile.
      resolve(new TcpTransport(socket));
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(connectionError(`pulsar: cannot connect to ${host}:${port}: ${err.message}`, err));
    });
  });
