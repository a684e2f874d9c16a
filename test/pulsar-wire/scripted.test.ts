/**
 * Client behaviour a standalone broker never shows: lookup redirects and proxies, broker
 * pings, dead peers, error replies, send errors, the broker closing a producer.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PulsarClient } from '../../src/adapters/pulsar/wire/client.ts';
import { PulsarError, PulsarWireError, isDefinitiveSendError } from '../../src/adapters/pulsar/wire/errors.ts';
import { Cmd, LookupType, u64 } from '../../src/adapters/pulsar/wire/proto.ts';
import { MAX_LOOKUP_REDIRECTS } from '../../src/adapters/pulsar/wire/lookup.ts';
import { ScriptedBroker, type Handler } from './scripted-broker.ts';

const TOPIC = 'persistent://t/ns/topic';
const open: { close(): Promise<void> }[] = [];

async function broker(handler?: Handler): Promise<ScriptedBroker> {
  const b = await ScriptedBroker.start(handler);
  open.push(b);
  return b;
}

function client(serviceUrl: string, extra: Partial<ConstructorParameters<typeof PulsarClient>[0]> = {}): PulsarClient {
  const c = new PulsarClient({ serviceUrl, operationTimeoutMs: 3_000, reconnectInitialMs: 10, reconnectMaxMs: 50, ...extra });
  open.push(c);
  return c;
}

const waitFor = async (cond: () => boolean, ms = 3_000): Promise<void> => {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

describe('lookup', () => {
  it('follows a Redirect to the broker it names, passing on `authoritative`', async () => {
    const b = await broker();
    const a = await broker((cmd, s) => {
      if (cmd.type !== Cmd.LOOKUP) return false;
      s.reply({ type: Cmd.LOOKUP_RESPONSE, lookupTopicResponse: { requestId: u64(cmd.lookupTopic!.requestId), response: LookupType.Redirect, brokerServiceUrl: b.url, authoritative: true } });
      return true;
    });
    const c = client(a.url);
    expect(await c.lookup(TOPIC)).toEqual({ logical: b.url, physical: b.url });
    expect(b.commands(Cmd.LOOKUP)[0]?.lookupTopic?.authoritative).toBe(true);
    expect(a.commands(Cmd.LOOKUP)[0]?.lookupTopic?.authoritative).toBe(false);

    // and a producer ends up on the broker that serves the topic
    const p = await c.createProducer({ topic: TOPIC, producerName: 'p' });
    expect(a.commands(Cmd.PRODUCER)).toHaveLength(0);
    expect(b.commands(Cmd.PRODUCER)[0]?.producer).toMatchObject({ topic: TOPIC, producerName: 'p' });
    await expect(p.send(new Uint8Array([1]))).resolves.toMatchObject({ ledgerId: 1 });
  });

  it('with proxy_through_service_url connects to the service URL and names the broker in CONNECT', async () => {
    const proxy = await broker((cmd, s) => {
      if (cmd.type !== Cmd.LOOKUP) return false;
      s.reply({
        type: Cmd.LOOKUP_RESPONSE,
        lookupTopicResponse: { requestId: u64(cmd.lookupTopic!.requestId), response: LookupType.Connect, brokerServiceUrl: 'pulsar://broker-7.internal:6650', proxyThroughServiceUrl: true },
      });
      return true;
    });
    const c = client(proxy.url);
    expect(await c.lookup(TOPIC)).toEqual({ logical: 'pulsar://broker-7.internal:6650', physical: proxy.url });
    await c.createProducer({ topic: TOPIC });
    const connects = proxy.commands(Cmd.CONNECT).map((x) => x.connect);
    expect(connects).toHaveLength(2);
    expect(connects[0]?.proxyToBrokerUrl ?? '').toBe('');
    expect(connects[1]).toMatchObject({ clientVersion: 'busbench', protocolVersion: 19, proxyToBrokerUrl: 'broker-7.internal:6650' });
  });

  it('turns a Failed lookup into a typed PulsarError', async () => {
    const a = await broker((cmd, s) => {
      if (cmd.type !== Cmd.LOOKUP) return false;
      s.reply({ type: Cmd.LOOKUP_RESPONSE, lookupTopicResponse: { requestId: u64(cmd.lookupTopic!.requestId), response: LookupType.Failed, error: 11, message: 'no such topic' } });
      return true;
    });
    const err = await client(a.url)
      .lookup(TOPIC)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PulsarError);
    expect(err).toMatchObject({ code: 'ADAPTER', kind: 'server', serverError: 'TopicNotFound', serverCode: 11, serverMessage: 'no such topic' });
  });

  it('gives up on a redirect loop', async () => {
    const a = await broker((cmd, s, self) => {
      if (cmd.type !== Cmd.LOOKUP) return false;
      s.reply({ type: Cmd.LOOKUP_RESPONSE, lookupTopicResponse: { requestId: u64(cmd.lookupTopic!.requestId), response: LookupType.Redirect, brokerServiceUrl: self.url } });
      return true;
    });
    await expect(client(a.url).lookup(TOPIC)).rejects.toThrow(/more than 20 redirects/);
    expect(a.commands(Cmd.LOOKUP)).toHaveLength(MAX_LOOKUP_REDIRECTS + 1);
  });
});

describe('connection', () => {
  it('sends CONNECT with client_version busbench and answers the broker’s PING with PONG', async () => {
    const a = await broker((cmd, s) => {
      if (cmd.type === Cmd.PRODUCER) s.reply({ type: Cmd.PING, ping: {} });
      return false;
    });
    await client(a.url).createProducer({ topic: TOPIC });
    await waitFor(() => a.commands(Cmd.PONG).length === 1);
    expect(a.commands(Cmd.CONNECT)[0]?.connect).toMatchObject({ clientVersion: 'busbench', protocolVersion: 19 });
  });

  // The keepalive runs on fake intervals that the test advances one at a time, so what it
  // sees does not depend on how busy the event loop is; the sockets stay real.
  describe('keepalive, interval by interval', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    type Conn = Awaited<ReturnType<PulsarClient['connection']>>;

    /**
     * Counts the reads of the client's socket from now on (after the handshake the broker
     * sends nothing but PONGs). Anything the broker sent would count as a sign of life, so
     * the count is taken inside the client rather than by asking it something.
     */
    const readsOf = (conn: Conn): (() => number) => {
      const spy = vi.spyOn(conn as unknown as { onData(chunk: Uint8Array): void }, 'onData');
      return () => spy.mock.calls.length;
    };

    const keptAlive = async (answerPings: boolean): Promise<{ a: ScriptedBroker; conn: Conn }> => {
      const a = await broker();
      a.answerPings = answerPings;
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
      const conn = await client(a.url, { keepAliveIntervalMs: 20 }).connection({ logical: a.url, physical: a.url });
      return { a, conn };
    };

    it('pings when idle and drops a broker that never answers', async () => {
      const { a, conn } = await keptAlive(false);
      const closed = new Promise<Error>((resolve) => conn.onClose(resolve));
      // interval 1: CONNECTED was heard; 2: nothing heard, so a PING; 3: still nothing
      vi.advanceTimersByTime(20);
      expect(a.commands(Cmd.PING)).toHaveLength(0);
      vi.advanceTimersByTime(20);
      await waitFor(() => a.commands(Cmd.PING).length === 1);
      expect(conn.closed).toBe(false);
      vi.advanceTimersByTime(20);
      const err = await closed;
      expect(conn.closed).toBe(true);
      expect(a.commands(Cmd.PING)).toHaveLength(1);
      expect(err).toBeInstanceOf(PulsarWireError);
      expect(err).toMatchObject({ kind: 'connection' });
      expect(err.message).toMatch(/presumed dead/);
    });

    it('keeps a connection whose broker answers pings', async () => {
      const { a, conn } = await keptAlive(true);
      const pongs = readsOf(conn);
      // every other interval is silent and sends a PING; its PONG makes the next one quiet
      for (let tick = 1; tick <= 10; tick++) {
        vi.advanceTimersByTime(20);
        if (tick % 2 === 0) {
          await waitFor(() => a.commands(Cmd.PING).length === tick / 2);
          await waitFor(() => pongs() === tick / 2);
        }
        expect(conn.closed).toBe(false);
      }
      expect(a.commands(Cmd.PING)).toHaveLength(5);
    });
  });

  it('fails a request the broker never answers with a timeout, keeping the connection', async () => {
    const a = await broker((cmd) => cmd.type === Cmd.PRODUCER); // swallow PRODUCER
    const c = client(a.url, { operationTimeoutMs: 100 });
    const err = await c.createProducer({ topic: TOPIC }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'timeout' });
    // the producer the broker might have created is closed again
    await waitFor(() => a.commands(Cmd.CLOSE_PRODUCER).length >= 1);
  });
});

describe('producer against a scripted broker', () => {
  it('surfaces CommandError as a PulsarError with the ServerError name (no retry for ProducerBusy)', async () => {
    const a = await broker((cmd, s) => {
      if (cmd.type !== Cmd.PRODUCER) return false;
      s.reply({ type: Cmd.ERROR, error: { requestId: u64(cmd.producer!.requestId), error: 16, message: 'Producer with name p is already connected' } });
      return true;
    });
    const err = await client(a.url)
      .createProducer({ topic: TOPIC, producerName: 'p' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PulsarError);
    expect(err).toMatchObject({ serverError: 'ProducerBusy', serverMessage: 'Producer with name p is already connected' });
    expect(a.commands(Cmd.PRODUCER)).toHaveLength(1);
  });

  it('retries ServiceNotReady until the broker accepts', async () => {
    let refusals = 2;
    const a = await broker((cmd, s) => {
      if (cmd.type !== Cmd.PRODUCER || refusals-- <= 0) return false;
      s.reply({ type: Cmd.ERROR, error: { requestId: u64(cmd.producer!.requestId), error: 6, message: 'not ready' } });
      return true;
    });
    const p = await client(a.url).createProducer({ topic: TOPIC });
    expect(p.connected).toBe(true);
    expect(a.commands(Cmd.PRODUCER)).toHaveLength(3);
  });

  it('fails a message on a definitive SendError (NotAllowedError)', async () => {
    const a = await broker((cmd, s) => {
      if (cmd.type !== Cmd.SEND) return false;
      s.reply({ type: Cmd.SEND_ERROR, sendError: { producerId: u64(cmd.send!.producerId), sequenceId: u64(cmd.send!.sequenceId), error: 22, message: 'not allowed' } });
      return true;
    });
    const p = await client(a.url).createProducer({ topic: TOPIC, batching: false });
    const err = await p.send(new Uint8Array([1])).catch((e: unknown) => e);
    expect(err).toMatchObject({ serverError: 'NotAllowedError' });
    expect(isDefinitiveSendError(err)).toBe(true);
  });

  it('re-creates itself on the same connection and resends on a transient SendError (PersistenceError), with a higher epoch', async () => {
    let failures = 1;
    const a = await broker((cmd, s) => {
      if (cmd.type !== Cmd.SEND || failures-- <= 0) return false;
      s.reply({ type: Cmd.SEND_ERROR, sendError: { producerId: u64(cmd.send!.producerId), sequenceId: u64(cmd.send!.sequenceId), error: 2, message: 'bookie down' } });
      return true;
    });
    const p = await client(a.url).createProducer({ topic: TOPIC, producerName: 'p', batchMaxDelayMs: 1 });
    const ids = await Promise.all([1, 2, 3].map((i) => p.send(new Uint8Array([i]))));
    expect(ids.map((id) => id.batchIndex)).toEqual([0, 1, 2]);
    expect(a.sessions.length).toBe(1); // the connection stays
    expect(a.commands(Cmd.CLOSE_PRODUCER)).toHaveLength(1);
    expect(a.commands(Cmd.SEND)).toHaveLength(2); // the same entry, twice
    expect(a.commands(Cmd.PRODUCER).map((c) => u64(c.producer!.epoch))).toEqual([0, 1]);
    expect(p.stats).toMatchObject({ reconnects: 1, resentEntries: 1 });
  });

  it('re-creates itself when the broker closes it, and resends what is pending', async () => {
    let closed = false;
    const a = await broker((cmd, s) => {
      if (cmd.type !== Cmd.SEND || closed) return false;
      closed = true;
      s.reply({ type: Cmd.CLOSE_PRODUCER, closeProducer: { producerId: u64(cmd.send!.producerId), requestId: 99 } });
      return true;
    });
    const p = await client(a.url).createProducer({ topic: TOPIC, producerName: 'p', batching: false });
    await expect(p.send(new Uint8Array([1]), { sequenceId: 41 })).resolves.toMatchObject({ ledgerId: 1, batchIndex: -1 });
    expect(a.sessions.length).toBe(1); // same connection, new producer session
    expect(a.commands(Cmd.PRODUCER)).toHaveLength(2);
    expect(a.commands(Cmd.SEND).map((c) => u64(c.send!.sequenceId))).toEqual([41, 41]);
  });

  it('resynchronises when a receipt skips ahead of what it expects', async () => {
    let skipped = false;
    const a = await broker((cmd, s) => {
      if (cmd.type !== Cmd.SEND || skipped) return false;
      skipped = true;
      s.reply({ type: Cmd.SEND_RECEIPT, sendReceipt: { producerId: u64(cmd.send!.producerId), sequenceId: 1000, messageId: { ledgerId: 9, entryId: 9 } } });
      return true;
    });
    const p = await client(a.url).createProducer({ topic: TOPIC, batching: false });
    await expect(p.send(new Uint8Array([1]), { sequenceId: 5 })).resolves.toMatchObject({ ledgerId: 1 });
    expect(a.sessions.length).toBe(2);
  });

  it('settles a re-sent old sequence the broker answers at once as a duplicate, ahead of pending entries', async () => {
    // The broker holds back the receipt of sequence 10 and answers the re-sent 3 first with
    // -1:-1, as Pulsar does for a duplicate it already stored.
    let held: (() => void) | undefined;
    const a = await broker((cmd, s) => {
      if (cmd.type !== Cmd.SEND) return false;
      const seq = u64(cmd.send!.sequenceId);
      const receipt = (ledgerId: number, entryId: number) => () =>
        s.reply({ type: Cmd.SEND_RECEIPT, sendReceipt: { producerId: u64(cmd.send!.producerId), sequenceId: seq, highestSequenceId: u64(cmd.send!.highestSequenceId ?? seq), messageId: { ledgerId, entryId } } });
      if (seq === 10) held = receipt(1, 10);
      else if (seq === 3) {
        receipt(-1, -1)();
        held?.();
      } else receipt(1, seq)();
      return true;
    });
    const outcomes: string[] = [];
    const p = await client(a.url).createProducer({ topic: TOPIC, batchMaxDelayMs: 1, onEntry: (seq, count, err) => outcomes.push(`${seq}+${count}:${err ? 'err' : 'ok'}`) });
    p.sendMessages(new Uint8Array(20), 10, 2, 10);
    await waitFor(() => held !== undefined);
    p.sendMessages(new Uint8Array(20), 10, 2, 3);
    await waitFor(() => outcomes.length === 2);
    expect(outcomes.sort()).toEqual(['10+2:ok', '3+2:ok']);
    expect(a.sessions.length).toBe(1); // no resynchronising reconnect
  });

  it('never puts non-consecutive sequence ids in one entry', async () => {
    const a = await broker();
    const p = await client(a.url).createProducer({ topic: TOPIC, batchMaxDelayMs: 50 });
    p.sendMessages(new Uint8Array(30), 10, 3, 20);
    p.sendMessages(new Uint8Array(20), 10, 2, 5);
    p.sendMessages(new Uint8Array(10), 10, 1, 23);
    await waitFor(() => a.commands(Cmd.SEND).length === 3);
    expect(a.commands(Cmd.SEND).map((c) => [u64(c.send!.sequenceId), u64(c.send!.highestSequenceId ?? c.send!.sequenceId)])).toEqual([
      [20, 22],
      [5, 6],
      [23, 23],
    ]);
  });

  it('reports unanswered messages as timeouts (outcome unknown)', async () => {
    const a = await broker((cmd) => cmd.type === Cmd.SEND); // swallow sends
    const outcomes: string[] = [];
    const p = await client(a.url).createProducer({
      topic: TOPIC,
      sendTimeoutMs: 50,
      batchMaxDelayMs: 1,
      onEntry: (seq, count, err) => outcomes.push(`${seq}+${count}:${err instanceof PulsarWireError ? err.kind : 'ok'}`),
    });
    p.sendMessages(new Uint8Array(30), 10, 3, 0);
    await waitFor(() => outcomes.length === 1, 2_000);
    expect(outcomes).toEqual(['0+3:timeout']);
    expect(p.pendingCount).toBe(0);
  });
});
