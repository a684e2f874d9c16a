/**
 * Double acks: a JetStream ack sent with a reply subject is answered by the server once it
 * has recorded the ack (an empty message; an ack of an already acknowledged message is
 * answered too, so sending one again is harmless). nats.js offers JsMsg.ackAck(), which
 * costs a request, a promise and a timer per message; here every ack of a batch goes out
 * with its own reply subject under one wildcard inbox and the batch has one timer.
 *
 * An ack without its answer may or may not have been recorded. It is sent again after the
 * client reconnected, until the server confirms it or the caller gives up (the consumer
 * closes, the run stops): only then does a consumer know a crash cannot bring it back.
 */
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { createInbox } from '@nats-io/nats-core';

const ACK = new TextEncoder().encode('+ACK');
const RETRY_PAUSE_MS = 100;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The acks of one attempt still awaiting their answer. */
class Round {
  /** token -> the delivery's ack subject */
  readonly open = new Map<number, string>();
  /** answered with an error status (e.g. 503: the consumer is not loaded yet) */
  readonly refused: string[] = [];
  timer: NodeJS.Timeout | undefined;

  constructor(private readonly done: (unconfirmed: string[]) => void) {}

  /** Resolves the attempt with whatever is not confirmed yet. */
  finish(): void {
    clearTimeout(this.timer);
    this.done([...this.refused, ...this.open.values()]);
  }
}

export class AckConfirmer {
  private readonly inbox = createInbox();
  private nextToken = 0;
  private readonly waiting = new Map<number, Round>();
  private connected = true;
  /** acks sent again because the first answer did not come */
  resent = 0;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {}

  static async create(nc: NatsConnection, timeoutMs: number): Promise<AckConfirmer> {
    const c = new AckConfirmer(nc, timeoutMs);
    nc.subscribe(`${c.inbox}.*`, { callback: (err, msg) => (err ? undefined : c.onAnswer(msg)) });
    await nc.flush();
    void c.watchConnection();
    return c;
  }

  /**
   * Acks every subject and resolves once each ack was confirmed; true then. False if
   * `giveUp()` said stop first: some acks may or may not have been recorded.
   */
  async confirm(ackSubjects: string[], giveUp: () => boolean): Promise<boolean> {
    if (ackSubjects.length === 0) return true;
    let rest = ackSubjects;
    for (let attempt = 0; ; attempt++) {
      // while disconnected a publish would only be dropped with the client's buffer
      while (!this.connected) {
        if (giveUp() || this.nc.isClosed()) return false;
        await sleep(RETRY_PAUSE_MS);
      }
      if (attempt > 0) this.resent += rest.length;
      rest = await this.attempt(rest);
      if (rest.length === 0) return true;
      if (giveUp() || this.nc.isClosed()) return false;
      await sleep(RETRY_PAUSE_MS);
    }
  }

  /** Ends every attempt under way as unconfirmed (the consumer is closing). */
  abandon(): void {
    for (const round of new Set(this.waiting.values())) this.end(round);
  }

  private attempt(ackSubjects: string[]): Promise<string[]> {
    return new Promise((resolve) => {
      const round = new Round(resolve);
      for (const subject of ackSubjects) {
        const token = this.nextToken++;
        round.open.set(token, subject);
        this.waiting.set(token, round);
      }
      try {
        for (const [token, subject] of round.open) this.nc.publish(subject, ACK, { reply: `${this.inbox}.${token}` });
      } catch {
        // the connection is closing: nothing more goes out, so nothing more will answer
        this.end(round);
        return;
      }
      round.timer = setTimeout(() => this.end(round), this.timeoutMs);
    });
  }

  private end(round: Round): void {
    for (const token of round.open.keys()) this.waiting.delete(token);
    round.finish();
  }

  private onAnswer(msg: Msg): void {
    const token = Number(msg.subject.slice(this.inbox.length + 1));
    const round = this.waiting.get(token);
    if (!round) return; // late: its attempt ended already and the ack was sent again
    this.waiting.delete(token);
    const subject = round.open.get(token)!;
    round.open.delete(token);
    if ((msg.headers?.code ?? 0) >= 300) round.refused.push(subject);
    if (round.open.size === 0) round.finish();
  }

  private async watchConnection(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') {
        this.connected = false;
        // their answers died with the connection: no use waiting out the timeout
        this.abandon();
      } else if (s.type === 'reconnect') this.connected = true;
    }
  }
}
