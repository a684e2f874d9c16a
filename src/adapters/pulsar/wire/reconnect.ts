/**
 * One way to (re)connect, shared by producers, consumers and the transaction coordinator,
 * so that backoff, error classification and the log lines cannot drift apart between them.
 *
 * - `retryWithin`: the first connection. Retriable failures are retried with backoff for
 *   as long as the next try would start within the operation timeout; the caller gets
 *   the error that ended it.
 * - `Reconnector`: after a connection loss. Retries for as long as the role still wants a
 *   connection; stops on the first error that retrying cannot fix (ProducerBusy and
 *   ConsumerBusy count as retriable here: the broker may not have noticed yet that the
 *   previous session is gone).
 * - `attach`: one attempt's common part: lookup, connection, the role's create command.
 *
 * What differs per role (PRODUCER and resending what is pending, or SUBSCRIBE, pending
 * acks and FLOW) stays with the role, passed in as `ReconnectRole.connect`.
 */
import { Backoff, sleep } from './backoff.ts';
import type { Connection } from './connection.ts';
import { isRetriable, PulsarWireError } from './errors.ts';
import type { BrokerAddress } from './lookup.ts';
import type { InboundCommand, OutboundCommand } from './proto.ts';

/** A session shorter than this failed at once: it does not reset the backoff. */
const LASTING_SESSION_MS = 5_000;

/** Runs `op` until it succeeds or fails for good, within `timeoutMs`; resets `backoff` on success. */
export async function retryWithin<T>(op: () => Promise<T>, backoff: Backoff, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const result = await op();
      backoff.reset();
      return result;
    } catch (err) {
      const delay = backoff.delay();
      if (!isRetriable(err) || Date.now() + delay > deadline) throw err;
      await sleep(delay);
    }
  }
}

/** What the reconnector needs from the client. */
export interface ReconnectHost {
  readonly operationTimeoutMs: number;
  readonly reconnectInitialMs: number;
  readonly reconnectMaxMs: number;
  log(line: string): void;
}

/** The per-role parts of reconnecting. */
export interface ReconnectRole {
  /** prefix of log lines, read for each line: a producer may learn its name from the broker */
  label(): string;
  /** how the log names coming back: "reconnect" / "resubscribe" */
  readonly again: { doing: string; attempt: string };
  /** still wants a connection (false once connected, closed or failed) */
  wanted(): boolean;
  /** one attempt: lookup, connection, the role's command, what the role sends on a new session */
  connect(): Promise<void>;
  /** an attempt of the loop after a loss succeeded */
  reconnected(): void;
  /** the loop met an error that retrying cannot fix */
  giveUp(failure: Error): void;
}

export class Reconnector {
  readonly backoff: Backoff;
  /** when the current session started: backoff resets only after a session that lasted */
  private connectedAt = 0;
  /** one loop at a time: a loss noticed while the loop runs is the loop's to handle */
  private running = false;

  constructor(
    private readonly host: ReconnectHost,
    private readonly role: ReconnectRole,
  ) {
    this.backoff = new Backoff(host.reconnectInitialMs, host.reconnectMaxMs);
  }

  /** The first connection, retried until the operation timeout. */
  first(): Promise<void> {
    return retryWithin(() => this.role.connect(), this.backoff, this.host.operationTimeoutMs);
  }

  /** The role is connected: a session begins. */
  sessionStarted(): void {
    this.connectedAt = Date.now();
  }

  /** The role lost its connection and wants a new one: reconnects in the background. */
  lost(reason: string): void {
    // A session that failed at once (a broker that accepts and then drops us) keeps the
    // backoff growing instead of reconnecting every 100 ms.
    if (Date.now() - this.connectedAt > LASTING_SESSION_MS) this.backoff.reset();
    this.host.log(`${this.role.label()}: connection lost (${reason}); ${this.role.again.doing}`);
    if (!this.running) void this.loop();
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.role.wanted()) {
        await sleep(this.backoff.delay());
        if (!this.role.wanted()) return;
        try {
          await this.role.connect();
          this.role.reconnected();
        } catch (err) {
          if (!this.role.wanted()) return;
          if (!isRetriable(err, true)) {
            const failure = err instanceof Error ? err : new Error(String(err));
            this.host.log(`${this.role.label()}: giving up: ${failure.message}`);
            this.role.giveUp(failure);
            return;
          }
          this.host.log(`${this.role.label()}: ${this.role.again.attempt} failed (${err instanceof Error ? err.message : String(err)})`);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

/** What the client offers an attempt. */
export interface AttachHost {
  lookup(topic: string): Promise<BrokerAddress>;
  connection(addr: BrokerAddress): Promise<Connection>;
  newRequestId(): number;
}

/** How a role is created on a broker, and undone. */
export interface AttachSpec {
  topic: string;
  register(conn: Connection): void;
  unregister(conn: Connection): void;
  /** the create command (PRODUCER, SUBSCRIBE) and how errors name it */
  create(requestId: number): OutboundCommand;
  what: string;
  /** the matching close command (CLOSE_PRODUCER, CLOSE_CONSUMER) and its name */
  close(requestId: number): OutboundCommand;
  closeWhat: string;
}

/**
 * Looks the topic up, connects and creates the role there. On failure the role is
 * unregistered and the error rethrown; after a timeout the broker may have created it
 * after all, so it is told to drop that one.
 */
export async function attach(host: AttachHost, spec: AttachSpec): Promise<{ conn: Connection; res: InboundCommand }> {
  const addr = await host.lookup(spec.topic);
  const conn = await host.connection(addr);
  const requestId = host.newRequestId();
  spec.register(conn);
  try {
    const res = await conn.request(spec.create(requestId), requestId, spec.what);
    return { conn, res };
  } catch (err) {
    spec.unregister(conn);
    if (err instanceof PulsarWireError && err.kind === 'timeout') {
      const closeId = host.newRequestId();
      conn.request(spec.close(closeId), closeId, spec.closeWhat).catch(() => undefined);
    }
    throw err;
  }
}
