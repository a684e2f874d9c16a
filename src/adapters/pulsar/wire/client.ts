/**
 * The client: a pool of connections (one per broker), ids for requests, producers and
 * consumers, topic lookup, and the producers and consumers it created (closed with it).
 */
import { Connection, CLIENT_VERSION, PROTOCOL_VERSION } from './connection.ts';
import { Consumer, type ConsumerOptions } from './consumer.ts';
import { closedError, PulsarWireError } from './errors.ts';
import { lookupTopic, type BrokerAddress, type LookupHost } from './lookup.ts';
import { Producer, type ClientCore, type ProducerOptions } from './producer.ts';
import { Cmd, u64 } from './proto.ts';
import { parseServiceUrl, serviceHosts, tcpTransport, tlsTransport, type TlsOptions, type Transport, type TransportFactory } from './transport.ts';

export interface ClientOptions {
  /** e.g. "pulsar://127.0.0.1:6650" */
  serviceUrl: string;
  /** longest wait for an answer to a request (lookup, producer, subscribe); default 30 s */
  operationTimeoutMs?: number;
  /** default 10 s */
  connectTimeoutMs?: number;
  /** ping after this much silence, give up after twice it; default 30 s (0 = off) */
  keepAliveIntervalMs?: number;
  /** reconnection backoff: first delay and cap; default 100 ms and 2 s */
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  /** the socket layer; default TCP, or TLS for pulsar+ssl:// URLs */
  transport?: TransportFactory;
  /** how TLS connections check the broker's certificate */
  tls?: TlsOptions;
  /** token authentication (the Java client's AuthenticationToken): sent in every CONNECT */
  token?: string;
  /** lookups ask for the addresses of this advertised listener (the Java client's listenerName) */
  listenerName?: string;
  /** client_version sent in CONNECT; default "busbench" */
  clientVersion?: string;
  protocolVersion?: number;
  /** diagnostics (reconnections, ignored commands); default: none */
  log?: (line: string) => void;
}

export class PulsarClient implements ClientCore, LookupHost {
  readonly serviceUrl: string;
  readonly operationTimeoutMs: number;
  readonly reconnectInitialMs: number;
  readonly reconnectMaxMs: number;
  readonly listenerName: string | undefined;
  /** the service URL is pulsar+ssl://: every connection, and every lookup answer followed, is TLS */
  readonly useTls: boolean;
  private readonly tlsFactory: TransportFactory | undefined;
  private readonly pool = new Map<string, Promise<Connection>>();
  private readonly producers = new Set<Producer>();
  private readonly consumers = new Set<Consumer>();
  private requestId = 0;
  private producerId = 0;
  private consumerId = 0;
  private closed = false;
  /** which host of a several-host service URL answered last */
  private serviceHost = 0;

  constructor(private readonly opts: ClientOptions) {
    this.useTls = parseServiceUrl(opts.serviceUrl).tls; // fails early on a bad URL
    this.serviceUrl = opts.serviceUrl;
    this.listenerName = opts.listenerName || undefined;
    this.tlsFactory = this.useTls && !opts.transport ? tlsTransport(opts.tls ?? {}) : undefined;
    this.operationTimeoutMs = opts.operationTimeoutMs ?? 30_000;
    this.reconnectInitialMs = opts.reconnectInitialMs ?? 100;
    this.reconnectMaxMs = opts.reconnectMaxMs ?? 2_000;
  }

  newRequestId(): number {
    return this.requestId++;
  }

  log(line: string): void {
    this.opts.log?.(line);
  }

  /** The connection to a broker, opened on first use and shared by everything on it. */
  connection(addr: BrokerAddress): Promise<Connection> {
    if (this.closed) return Promise.reject(closedError('pulsar: client closed'));
    const key = `${addr.logical}|${addr.physical}`;
    const existing = this.pool.get(key);
    if (existing) return existing;
    const opening = this.open(addr);
    this.pool.set(key, opening);
    opening.then(
      (conn) =>
        conn.onClose(() => {
          if (this.pool.get(key) === opening) this.pool.delete(key);
        }),
      () => {
        if (this.pool.get(key) === opening) this.pool.delete(key);
      },
    );
    return opening;
  }

  /** LookupHost: lookups go over the pooled connections too. */
  connect(addr: BrokerAddress): Promise<Connection> {
    return this.connection(addr);
  }

  /** Which broker serves `topic` (following redirects). */
  lookup(topic: string): Promise<BrokerAddress> {
    return lookupTopic(this, topic);
  }

  /** Partitions of a topic; 0 for a non-partitioned one. */
  async partitionCount(topic: string): Promise<number> {
    const conn = await this.connection({ logical: this.serviceUrl, physical: this.serviceUrl });
    const requestId = this.newRequestId();
    const res = await conn.request({ type: Cmd.PARTITIONED_METADATA, partitionMetadata: { topic, requestId } }, requestId, `PARTITIONED_METADATA ${topic}`);
    return u64(res.partitionMetadataResponse?.partitions, 0);
  }

  async createProducer(opts: ProducerOptions): Promise<Producer> {
    if (this.closed) throw closedError('pulsar: client closed');
    const p = await Producer.create(this, this.producerId++, opts);
    this.producers.add(p);
    return p;
  }

  async subscribe(opts: ConsumerOptions): Promise<Consumer> {
    if (this.closed) throw closedError('pulsar: client closed');
    const c = await Consumer.subscribe(this, this.consumerId++, opts);
    this.consumers.add(c);
    return c;
  }

  /** Open connections, for tests and diagnostics. */
  async connections(): Promise<Connection[]> {
    const settled = await Promise.allSettled([...this.pool.values()]);
    return settled.flatMap((s) => (s.status === 'fulfilled' && !s.value.closed ? [s.value] : []));
  }

  /** Closes every producer and consumer, then the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.allSettled([...this.producers].map((p) => p.close()));
    await Promise.allSettled([...this.consumers].map((c) => c.close()));
    this.closed = true;
    for (const conn of await this.connections()) conn.close();
    this.pool.clear();
  }

  /**
   * The transport to `addr`. A service URL naming several hosts (a cluster's brokers) is
   * tried host by host, starting with the one that last answered, so that lookups go on
   * while one broker is down; a broker's own address (a lookup's answer) is one host.
   */
  private async transportTo(addr: BrokerAddress): Promise<{ transport: Transport; host: string; port: number }> {
    const factory = this.opts.transport ?? this.tlsFactory ?? tcpTransport;
    const hosts = addr.physical === this.serviceUrl ? serviceHosts(addr.physical) : [parseServiceUrl(addr.physical)];
    let failure: unknown;
    for (let k = 0; k < hosts.length; k++) {
      const i = (this.serviceHost + k) % hosts.length;
      const { host, port, tls } = hosts[i]!;
      if (tls !== this.useTls) throw new PulsarWireError('protocol', `pulsar: ${addr.physical} is ${tls ? '' : 'not '}a TLS URL, the service URL ${this.serviceUrl} is ${this.useTls ? '' : 'not '}one`);
      try {
        const transport = await factory(host, port, this.opts.connectTimeoutMs ?? 10_000);
        if (hosts.length > 1) this.serviceHost = i;
        return { transport, host, port };
      } catch (err) {
        failure = err;
        if (hosts.length > 1) this.log(`pulsar: ${host}:${port} of the service URL did not answer (${err instanceof Error ? err.message : String(err)}), trying the next`);
      }
    }
    throw failure;
  }

  private async open(addr: BrokerAddress): Promise<Connection> {
    const { transport, host, port } = await this.transportTo(addr);
    let proxyTo: string | undefined;
    if (addr.logical !== addr.physical) {
      const l = parseServiceUrl(addr.logical);
      proxyTo = `${l.host}:${l.port}`;
    }
    try {
      return await Connection.open(transport, {
        clientVersion: this.opts.clientVersion ?? CLIENT_VERSION,
        protocolVersion: this.opts.protocolVersion ?? PROTOCOL_VERSION,
        operationTimeoutMs: this.operationTimeoutMs,
        keepAliveIntervalMs: this.opts.keepAliveIntervalMs ?? 30_000,
        ...(proxyTo ? { proxyToBrokerUrl: proxyTo } : {}),
        ...(this.opts.token ? { token: this.opts.token } : {}),
        log: (line) => this.log(line),
      });
    } catch (err) {
      transport.destroy();
      if (err instanceof PulsarWireError) throw err;
      throw new PulsarWireError('connection', `pulsar: handshake with ${host}:${port} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
}
