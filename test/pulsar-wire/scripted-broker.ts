/**
 * A stand-in broker on a local TCP port that answers commands from a script, for the
 * paths a standalone Pulsar never takes (lookup redirects, proxies, error replies, dead
 * peers). It speaks frames with the client's own codec: what it tests is the client's
 * behaviour, while the codec is checked by the vector tests and the real broker.
 */
import net from 'node:net';
import tls from 'node:tls';
import { FrameReader, encodeSimpleFrame, parseFrame } from '../../src/adapters/pulsar/wire/framing.ts';
import { Cmd, decodeCommand, encodeCommand, LookupType, u64, type InboundCommand, type OutboundCommand } from '../../src/adapters/pulsar/wire/proto.ts';
import type { ParsedFrame } from '../../src/adapters/pulsar/wire/framing.ts';

export interface Session {
  /** 0, 1, ... in order of connection */
  readonly index: number;
  reply(cmd: OutboundCommand): void;
  /** raw bytes, e.g. a frame the codec cannot produce */
  write(bytes: Uint8Array): void;
  destroy(): void;
}

/**
 * Returns true when it answered; false falls through to the default answer. `frame` holds
 * a SEND's metadata and payload; it is valid only during the call (copy what you keep).
 */
export type Handler = (cmd: InboundCommand, s: Session, broker: ScriptedBroker, frame: ParsedFrame) => boolean | void;

export class ScriptedBroker {
  readonly received: { session: number; cmd: InboundCommand }[] = [];
  readonly sessions: Session[] = [];
  answerPings = true;
  private entries = 0;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    public handler: Handler,
    private readonly tls: boolean,
  ) {}

  /** With `tlsOptions` (key and cert) it speaks TLS, and its URL is pulsar+ssl://. */
  static async start(handler: Handler = () => false, tlsOptions?: tls.TlsOptions): Promise<ScriptedBroker> {
    const holder: { broker?: ScriptedBroker } = {};
    const accept = (socket: net.Socket): void => holder.broker?.accept(socket);
    const server = tlsOptions ? tls.createServer(tlsOptions, accept) : net.createServer(accept);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    holder.broker = new ScriptedBroker(server, port, handler, tlsOptions !== undefined);
    return holder.broker;
  }

  get url(): string {
    return `${this.tls ? 'pulsar+ssl' : 'pulsar'}://127.0.0.1:${this.port}`;
  }

  /** Commands of one type received so far. */
  commands(type: number): InboundCommand[] {
    return this.received.filter((r) => r.cmd.type === type).map((r) => r.cmd);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const session: Session = {
      index: this.sessions.length,
      reply: (cmd) => socket.write(encodeSimpleFrame(encodeCommand(cmd))),
      write: (bytes) => socket.write(bytes),
      destroy: () => socket.destroy(),
    };
    this.sessions.push(session);
    const reader = new FrameReader((frame) => {
      const f = parseFrame(frame);
      const cmd = decodeCommand(f.buf.subarray(f.commandStart, f.commandEnd));
      this.received.push({ session: session.index, cmd });
      if (this.handler(cmd, session, this, f) !== true) this.answer(cmd, session);
    });
    socket.on('data', (chunk) => {
      try {
        reader.push(chunk);
      } catch {
        socket.destroy();
      }
    });
  }

  /** What a healthy standalone broker would answer. */
  private answer(cmd: InboundCommand, s: Session): void {
    switch (cmd.type) {
      case Cmd.CONNECT:
        s.reply({ type: Cmd.CONNECTED, connected: { serverVersion: 'scripted', protocolVersion: 19, maxMessageSize: 5 * 1024 * 1024 } });
        return;
      case Cmd.PING:
        if (this.answerPings) s.reply({ type: Cmd.PONG, pong: {} });
        return;
      case Cmd.LOOKUP:
        s.reply({
          type: Cmd.LOOKUP_RESPONSE,
          lookupTopicResponse: { requestId: u64(cmd.lookupTopic!.requestId), response: LookupType.Connect, [this.tls ? 'brokerServiceUrlTls' : 'brokerServiceUrl']: this.url, authoritative: true },
        });
        return;
      case Cmd.PARTITIONED_METADATA:
        s.reply({ type: Cmd.PARTITIONED_METADATA_RESPONSE, partitionMetadataResponse: { requestId: u64(cmd.partitionMetadata!.requestId), partitions: 0, response: 0 } });
        return;
      case Cmd.PRODUCER:
        s.reply({
          type: Cmd.PRODUCER_SUCCESS,
          producerSuccess: { requestId: u64(cmd.producer!.requestId), producerName: cmd.producer!.producerName || 'scripted-0', lastSequenceId: -1 },
        });
        return;
      case Cmd.SEND: {
        const send = cmd.send!;
        s.reply({
          type: Cmd.SEND_RECEIPT,
          sendReceipt: {
            producerId: u64(send.producerId),
            sequenceId: u64(send.sequenceId),
            highestSequenceId: u64(send.highestSequenceId),
            messageId: { ledgerId: 1, entryId: this.entries++ },
          },
        });
        return;
      }
      case Cmd.SUBSCRIBE:
        s.reply({ type: Cmd.SUCCESS, success: { requestId: u64(cmd.subscribe!.requestId) } });
        return;
      case Cmd.CLOSE_PRODUCER:
      case Cmd.CLOSE_CONSUMER:
      case Cmd.UNSUBSCRIBE: {
        const sub = (cmd as unknown as Record<string, { requestId: number } | undefined>)[cmd.type === Cmd.CLOSE_PRODUCER ? 'closeProducer' : cmd.type === Cmd.CLOSE_CONSUMER ? 'closeConsumer' : 'unsubscribe'];
        if (sub) s.reply({ type: Cmd.SUCCESS, success: { requestId: u64(sub.requestId) } });
        return;
      }
      default:
        return;
    }
  }
}
