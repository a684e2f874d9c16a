/**
 * One connection to a broker: the CONNECT handshake, requests matched to responses by
 * request_id, routing of receipts and messages to the producers and consumers that live
 * on it, keepalive pings, and one close notification when it goes away.
 *
 * It owns no retry logic: producers and consumers decide what to do when their
 * connection closes (producer.ts, consumer.ts reconnect with backoff).
 */
import { closedError, connectionError, PulsarError, protocolError, timeoutError } from './errors.ts';
import { MessageCommand, PbReader, readCommandHead, readMessageCommand, readSendReceipt, SendReceipt, type CommandHead } from './fastcodec.ts';
import { DEFAULT_MAX_MESSAGE_SIZE, encodeSimpleFrame, FRAME_PADDING, FrameReader, ParsedFrame, parseFrame } from './framing.ts';
import { Cmd, CMD_NAMES, decodeCommand, encodeCommand, LookupType, subCommand, u64, type InboundCommand, type OutboundCommand, type U64 } from './proto.ts';
import type { Transport } from './transport.ts';

export const CLIENT_VERSION = 'busbench';
/**
 * v19 adds nothing we use over v12..18, but announcing it tells the broker we understand
 * consumer epochs (v18 era) and everything older; newer brokers speak down to it.
 */
export const PROTOCOL_VERSION = 19;

export interface ConnectionOptions {
  clientVersion: string;
  protocolVersion: number;
  /** how long a request (lookup, producer, subscribe, ...) may wait for its answer */
  operationTimeoutMs: number;
  /** idle time after which we ping; twice that without any byte from the broker = dead */
  keepAliveIntervalMs: number;
  /** set when connecting through a proxy: the broker ("host:port") it should forward to */
  proxyToBrokerUrl?: string;
  /** token authentication: CONNECT carries auth_method_name "token" and the token */
  token?: string;
  log?: (line: string) => void;
}

/** What a producer living on a connection is told. */
export interface ProducerHandler {
  onReceipt(receipt: SendReceipt): void;
  onSendError(sequenceId: number, err: PulsarError): void;
  /** the broker closed the producer (topic unloaded, migrated, deleted): reconnect */
  onClosedByBroker(reason: string): void;
  onConnectionClosed(err: Error): void;
}

/** What a consumer living on a connection is told. */
export interface ConsumerHandler {
  /** `frame` and `cmd` are reused after the call returns: copy what you keep */
  onMessage(cmd: MessageCommand, frame: ParsedFrame): void;
  onClosedByBroker(reason: string): void;
  onConnectionClosed(err: Error): void;
  onActiveChange?(active: boolean): void;
  onEndOfTopic?(): void;
}

interface PendingRequest {
  resolve(cmd: InboundCommand): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
  what: string;
}

const PING_FRAME = encodeSimpleFrame(encodeCommand({ type: Cmd.PING, ping: {} }));
const PONG_FRAME = encodeSimpleFrame(encodeCommand({ type: Cmd.PONG, pong: {} }));

export class Connection {
  serverVersion = '';
  protocolVersion = 0;
  maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE;
  private readonly requests = new Map<number, PendingRequest>();
  private readonly producers = new Map<number, ProducerHandler>();
  private readonly consumers = new Map<number, ConsumerHandler>();
  private readonly closeListeners: ((err: Error) => void)[] = [];
  private readonly reader: FrameReader;
  private readonly pb = new PbReader();
  private readonly head: CommandHead = { type: 0, subStart: 0, subEnd: 0 };
  private readonly parsed = new ParsedFrame();
  private readonly msgCmd = new MessageCommand();
  private readonly receipt = new SendReceipt();
  private handshake: PendingRequest | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private heardSinceCheck = true;
  private pingOutstanding = false;
  private closedWith: Error | undefined;

  private constructor(
    private readonly transport: Transport,
    private readonly opts: ConnectionOptions,
  ) {
    this.reader = new FrameReader((frame) => this.onFrame(frame));
    transport.attach(
      (chunk) => this.onData(chunk),
      (err) => this.onTransportClosed(err),
    );
  }

  /** Sends CONNECT over a fresh transport and resolves once the broker says CONNECTED. */
  static open(transport: Transport, opts: ConnectionOptions): Promise<Connection> {
    const conn = new Connection(transport, opts);
    return new Promise<Connection>((resolve, reject) => {
      conn.handshake = {
        resolve: () => resolve(conn),
        reject,
        what: `CONNECT to ${transport.remote}`,
        timer: setTimeout(() => conn.destroy(timeoutError(`pulsar: no CONNECTED from ${transport.remote} within ${opts.operationTimeoutMs} ms`)), opts.operationTimeoutMs),
      };
      conn.send({
        type: Cmd.CONNECT,
        connect: {
          clientVersion: opts.clientVersion,
          protocolVersion: opts.protocolVersion,
          ...(opts.proxyToBrokerUrl ? { proxyToBrokerUrl: opts.proxyToBrokerUrl } : {}),
          ...(opts.token ? { authMethodName: 'token', authData: new TextEncoder().encode(opts.token) } : {}),
          featureFlags: { supportsAuthRefresh: false, supportsBrokerEntryMetadata: false, supportsPartialProducer: false, supportsTopicWatchers: false },
        },
      });
    });
  }

  get remote(): string {
    return this.transport.remote;
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** bytes written and not yet taken by the kernel (for backpressure decisions) */
  get bufferedBytes(): number {
    return this.transport.bufferedBytes;
  }

  /** Writes a ready frame (e.g. a SEND built by the producer). Dropped once closed. */
  write(frame: Uint8Array): void {
    if (!this.closedWith) this.transport.write(frame);
  }

  /** Encodes and writes a command without payload. */
  send(cmd: OutboundCommand): void {
    this.write(encodeSimpleFrame(encodeCommand(cmd)));
  }

  /**
   * Sends a command carrying `requestId` and resolves with the broker's answer. ERROR
   * and failed lookups reject with a PulsarError; no answer within the operation timeout
   * rejects with a timeout error (the connection stays up).
   */
  request(cmd: OutboundCommand, requestId: number, what: string): Promise<InboundCommand> {
    if (this.closedWith) return Promise.reject(closedError(`pulsar ${what}: connection to ${this.remote} is closed`));
    return new Promise<InboundCommand>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.requests.delete(requestId);
        reject(timeoutError(`pulsar ${what}: no answer from ${this.remote} within ${this.opts.operationTimeoutMs} ms`));
      }, this.opts.operationTimeoutMs);
      this.requests.set(requestId, { resolve, reject, timer, what });
      this.send(cmd);
    });
  }

  registerProducer(id: number, handler: ProducerHandler): void {
    this.producers.set(id, handler);
  }

  unregisterProducer(id: number): void {
    this.producers.delete(id);
  }

  registerConsumer(id: number, handler: ConsumerHandler): void {
    this.consumers.set(id, handler);
  }

  unregisterConsumer(id: number): void {
    this.consumers.delete(id);
  }

  /** Called once with the reason when the connection is gone (immediately if it is). */
  onClose(listener: (err: Error) => void): void {
    if (this.closedWith) listener(this.closedWith);
    else this.closeListeners.push(listener);
  }

  /** Graceful close: pending requests fail, the socket flushes and ends. */
  close(): void {
    if (this.closedWith) return;
    this.transport.end();
    this.shutdown(closedError(`pulsar: connection to ${this.remote} closed by the client`));
  }

  /** Closes at once, e.g. on a protocol violation or a dead peer. */
  destroy(err: Error): void {
    if (this.closedWith) return;
    this.transport.destroy();
    this.shutdown(err);
  }

  /** Starts the keepalive once the handshake is done: the broker answers pings only then. */
  private startKeepalive(): void {
    const interval = this.opts.keepAliveIntervalMs;
    if (interval <= 0) return;
    this.keepalive = setInterval(() => {
      if (this.heardSinceCheck) {
        this.heardSinceCheck = false;
        this.pingOutstanding = false;
        return;
      }
      if (this.pingOutstanding) {
        this.destroy(connectionError(`pulsar: ${this.remote} sent nothing for ${(2 * interval) / 1000} s (no PONG): connection presumed dead`));
        return;
      }
      this.pingOutstanding = true;
      this.write(PING_FRAME);
    }, interval);
    this.keepalive.unref();
  }

  private onData(chunk: Uint8Array): void {
    this.heardSinceCheck = true;
    try {
      this.reader.push(chunk);
    } catch (err) {
      this.destroy(err instanceof Error ? err : protocolError(String(err)));
    }
  }

  private onFrame(frame: Uint8Array): void {
    const parsed = parseFrame(frame, this.parsed);
    const r = this.pb.reset(frame, parsed.commandStart, parsed.commandEnd);
    const head = readCommandHead(r, this.head);
    switch (head.type) {
      case Cmd.MESSAGE: {
        if (!parsed.hasPayload) throw protocolError('MESSAGE without payload');
        const cmd = readMessageCommand(r.reset(frame, head.subStart, head.subEnd), this.msgCmd);
        this.consumers.get(cmd.consumerId)?.onMessage(cmd, parsed);
        return;
      }
      case Cmd.SEND_RECEIPT: {
        const receipt = readSendReceipt(r.reset(frame, head.subStart, head.subEnd), this.receipt);
        this.producers.get(receipt.producerId)?.onReceipt(receipt);
        return;
      }
      case Cmd.PING:
        this.write(PONG_FRAME);
        return;
      case Cmd.PONG:
        return;
      default:
        this.onCommand(decodeCommand(frame.subarray(parsed.commandStart, parsed.commandEnd)));
    }
  }

  private onCommand(cmd: InboundCommand): void {
    switch (cmd.type) {
      case Cmd.CONNECTED: {
        const c = cmd.connected;
        const hs = this.handshake;
        if (!c || !hs) return;
        this.handshake = undefined;
        clearTimeout(hs.timer);
        this.serverVersion = c.serverVersion;
        this.protocolVersion = c.protocolVersion;
        if (c.maxMessageSize > 0) this.maxMessageSize = c.maxMessageSize;
        this.reader.maxFrameSize = this.maxMessageSize + FRAME_PADDING;
        this.startKeepalive();
        hs.resolve(cmd);
        return;
      }
      case Cmd.SEND_ERROR: {
        const e = cmd.sendError;
        if (!e) return;
        const seq = u64(e.sequenceId);
        this.producers.get(u64(e.producerId))?.onSendError(seq, new PulsarError(e.error, e.message, `SEND (sequence id ${seq})`));
        return;
      }
      case Cmd.CLOSE_PRODUCER: {
        const id = u64(cmd.closeProducer?.producerId);
        const p = this.producers.get(id);
        this.producers.delete(id);
        p?.onClosedByBroker('the broker closed the producer (topic unloaded or deleted)');
        return;
      }
      case Cmd.CLOSE_CONSUMER: {
        const id = u64(cmd.closeConsumer?.consumerId);
        const c = this.consumers.get(id);
        this.consumers.delete(id);
        c?.onClosedByBroker('the broker closed the consumer (topic unloaded or deleted)');
        return;
      }
      case Cmd.TOPIC_MIGRATED: {
        const m = cmd.topicMigrated;
        if (!m) return;
        const id = u64(m.resourceId);
        const why = `topic migrated to ${m.brokerServiceUrl}`;
        if (m.resourceType === 0) this.producers.get(id)?.onClosedByBroker(why);
        else this.consumers.get(id)?.onClosedByBroker(why);
        return;
      }
      case Cmd.ACTIVE_CONSUMER_CHANGE:
        this.consumers.get(u64(cmd.activeConsumerChange?.consumerId))?.onActiveChange?.(cmd.activeConsumerChange?.isActive ?? false);
        return;
      case Cmd.REACHED_END_OF_TOPIC:
        this.consumers.get(u64(cmd.reachedEndOfTopic?.consumerId))?.onEndOfTopic?.();
        return;
      case Cmd.ERROR:
        if (this.handshake && !this.requests.has(u64(cmd.error?.requestId, -1))) {
          const hs = this.handshake;
          this.destroy(new PulsarError(cmd.error?.error ?? 0, cmd.error?.message ?? '', hs.what));
          return;
        }
        this.answer(cmd);
        return;
      default:
        this.answer(cmd);
    }
  }

  /** Resolves or rejects the request a response answers. */
  private answer(cmd: InboundCommand): void {
    const sub = subCommand(cmd);
    const requestId = sub ? u64(sub.requestId as U64 | undefined, -1) : -1;
    const pending = this.requests.get(requestId);
    if (!pending) {
      this.opts.log?.(`pulsar: ${this.remote}: ignoring ${CMD_NAMES.get(cmd.type) ?? `command type ${cmd.type}`}${requestId >= 0 ? ` for request ${requestId}` : ''}`);
      return;
    }
    // A producer queued behind an exclusive one: the real answer comes later, untimed.
    if (cmd.type === Cmd.PRODUCER_SUCCESS && cmd.producerSuccess?.producerReady === false) {
      clearTimeout(pending.timer);
      pending.timer = undefined;
      return;
    }
    this.requests.delete(requestId);
    clearTimeout(pending.timer);
    const err = errorOf(cmd, pending.what);
    if (err) pending.reject(err);
    else pending.resolve(cmd);
  }

  private onTransportClosed(err: Error | undefined): void {
    this.shutdown(connectionError(`pulsar: connection to ${this.remote} lost${err ? `: ${err.message}` : ''}`, err));
  }

  private shutdown(err: Error): void {
    if (this.closedWith) return;
    this.closedWith = err;
    clearInterval(this.keepalive);
    if (this.handshake) {
      clearTimeout(this.handshake.timer);
      this.handshake.reject(err);
      this.handshake = undefined;
    }
    for (const p of this.requests.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.requests.clear();
    const producers = [...this.producers.values()];
    const consumers = [...this.consumers.values()];
    this.producers.clear();
    this.consumers.clear();
    for (const p of producers) p.onConnectionClosed(err);
    for (const c of consumers) c.onConnectionClosed(err);
    for (const l of this.closeListeners.splice(0)) l(err);
  }
}

/** The error a response carries, if any: CommandError, a failed lookup, an error field. */
function errorOf(cmd: InboundCommand, what: string): PulsarError | undefined {
  if (cmd.type === Cmd.ERROR && cmd.error) return new PulsarError(cmd.error.error, cmd.error.message, what);
  if (cmd.type === Cmd.LOOKUP_RESPONSE && cmd.lookupTopicResponse?.response === LookupType.Failed) {
    return new PulsarError(cmd.lookupTopicResponse.error, cmd.lookupTopicResponse.message, what);
  }
  if (cmd.type === Cmd.PARTITIONED_METADATA_RESPONSE && cmd.partitionMetadataResponse?.response === 1) {
    return new PulsarError(cmd.partitionMetadataResponse.error, cmd.partitionMetadataResponse.message, what);
  }
  // ACK_RESPONSE and the transaction responses carry an optional error field.
  const sub = subCommand(cmd);
  if (sub && cmd.type !== Cmd.LOOKUP_RESPONSE && cmd.type !== Cmd.PARTITIONED_METADATA_RESPONSE && Object.prototype.hasOwnProperty.call(sub, 'error')) {
    return new PulsarError(Number(sub.error), typeof sub.message === 'string' ? sub.message : '', what);
  }
  return undefined;
}
