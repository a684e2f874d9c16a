/**
 * The socket, kept thin: the protocol code above it sees only a byte pipe, so tests can
 * run it over anything (a scripted broker, a pipe that drops mid-stream). TCP, or TLS
 * (node:tls) for pulsar+ssl:// URLs.
 */
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { connectionError, invalidError, PulsarWireError, timeoutError } from './errors.ts';

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
  /** pulsar+ssl:// */
  tls: boolean;
}

/**
 * Every host of a service URL, "pulsar://h1:p1,h2:p2,h3" (a port left out is the scheme's
 * default), as the Java client reads one: the brokers of a cluster, any of which answers
 * lookups.
 */
export function serviceHosts(url: string): HostPort[] {
  const first = parseServiceUrl(url);
  const rest = /^pulsar(?:\+ssl)?:\/\/[^,/]+((?:,[^,/]+)*)\/?$/.exec(url.trim())?.[1] ?? '';
  const others = rest
    .split(',')
    .filter(Boolean)
    .map((hp) => parseServiceUrl(`${first.tls ? 'pulsar+ssl' : 'pulsar'}://${hp}`));
  return [first, ...others];
}

/** Parses "pulsar://host:port" or "pulsar+ssl://host:port" (the first host of a comma-separated list). */
export function parseServiceUrl(url: string): HostPort {
  const m = /^pulsar(\+ssl)?:\/\/(\[[^\]]+\]|[^:/,]+)(?::(\d+))?(?:,[^/]*)?\/?$/.exec(url.trim());
  if (!m) throw invalidError(`pulsar: not a service URL: ${JSON.stringify(url)} (expected pulsar://host:port or pulsar+ssl://host:port)`);
  const tlsUrl = m[1] !== undefined;
  const host = m[2]!.replace(/^\[|\]$/g, '');
  return { host, port: m[3] ? Number(m[3]) : tlsUrl ? 6651 : 6650, tls: tlsUrl };
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

/** Resolves with the transport once `ready` fires on the socket `open` made (connect, or the TLS handshake). */
function connectWith(open: () => net.Socket, ready: 'connect' | 'secureConnect', host: string, port: number, timeoutMs: number): Promise<Transport> {
  return new Promise<Transport>((resolve, reject) => {
    const socket = open();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(timeoutError(`pulsar: connecting to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      // Paused until attach() adds a 'data' listener, so no bytes are dropped meanwhile.
      resolve(new TcpTransport(socket));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const message = `pulsar: cannot connect to ${host}:${port}: ${err.message}`;
      // A certificate refused is refused again on every retry: it fails at once.
      reject(isCertificateError(err) ? new PulsarWireError('tls', `${message} (see pulsar.tlsTrustCertsFilePath, tlsHostnameVerification, tlsAllowInsecureConnection)`, { cause: err }) : connectionError(message, err));
    });
  });
}

export const tcpTransport: TransportFactory = (host, port, timeoutMs) => connectWith(() => net.connect({ host, port }), 'connect', host, port, timeoutMs);

/** How a TLS connection checks the broker (the Java client's names in brackets). */
export interface TlsOptions {
  /** PEM file of the certificate(s) that signed the broker's; default Node's CA store [tlsTrustCertsFilePath] */
  trustCertsFilePath?: string;
  /** accept any certificate, unchecked [tlsAllowInsecureConnection]; default false */
  allowInsecureConnection?: boolean;
  /** the certificate must name the host connected to [enableTlsHostnameVerification]; default true (Java: false) */
  hostnameVerification?: boolean;
}

/** A TLS transport factory; the trust file is read once, here (a missing file fails now, not at the first connection). */
export function tlsTransport(o: TlsOptions): TransportFactory {
  let ca: Buffer | undefined;
  if (o.trustCertsFilePath) {
    try {
      ca = fs.readFileSync(o.trustCertsFilePath);
    } catch (err) {
      throw invalidError(`pulsar: cannot read the TLS trust certificates ${o.trustCertsFilePath}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const options: tls.ConnectionOptions = {
    ...(ca ? { ca } : {}),
    rejectUnauthorized: o.allowInsecureConnection !== true,
    ...(o.hostnameVerification === false ? { checkServerIdentity: () => undefined } : {}),
  };
  return (host, port, timeoutMs) =>
    connectWith(() => tls.connect({ ...options, host, port, ...(net.isIP(host) ? {} : { servername: host }) }), 'secureConnect', host, port, timeoutMs);
}

/** Node's codes for a certificate that failed verification (OpenSSL's names, and its own for a name mismatch). */
function isCertificateError(err: NodeJS.ErrnoException): boolean {
  return typeof err.code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT/.test(err.code);
}
