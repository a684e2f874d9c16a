/**
 * Send errors against a stand-in broker: a transient one (PersistenceError) makes only the
 * producer concerned start over, on the same connection, while another producer's send
 * and a transaction request are in flight on it; a ChecksumError is checked against the
 * entry's own bytes before anything is resent, and resends are bounded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PulsarClient } from '../../src/adapters/pulsar/wire/client.ts';
import { PulsarWireError } from '../../src/adapters/pulsar/wire/errors.ts';
import { MAX_CHECKSUM_RESENDS } from '../../src/adapters/pulsar/wire/producer.ts';
import { Cmd, subCommand, u64, type InboundCommand } from '../../src/adapters/pulsar/wire/proto.ts';
import { TransactionCoordinator } from '../../src/adapters/pulsar/wire/transactions.ts';
import { tcpTransport, type Transport, type TransportFactory } from '../../src/adapters/pulsar/wire/transport.ts';
import { writeRaw } from './raw-frames.ts';
import { ScriptedBroker, type Session } from './scripted-broker.ts';

const PERSISTENCE_ERROR = 2;
const CHECKSUM_ERROR = 9;
const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function until(cond: () => boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function client(url: string, transport?: TransportFactory): PulsarClient {
  const c = new PulsarClient({ serviceUrl: url, operationTimeoutMs: 3_000, reconnectInitialMs: 10, reconnectMaxMs: 50, ...(transport ? { transport } : {}) });
  open.push(c);
  return c;
}

/** request_id of a command the typed union leaves out (the transaction requests) */
function requestIdOf(cmd: InboundCommand): number {
  return Number(String(subCommand(cmd)?.requestId));
}

function sendError(s: Session, cmd: InboundCommand, error: number): void {
  s.reply({ type: Cmd.SEND_ERROR, sendError: { producerId: u64(cmd.send!.producerId), sequenceId: u64(cmd.send!.sequenceId), error, message: 'scripted' } });
}

/** Outcomes per entry as "firstSeq+count:stored|<error kind>". */
function outcomes(): { list: string[]; onEntry: (seq: number, count: number, err: Error | null) => void } {
  const list: string[] = [];
  return { list, onEntry: (seq, count, err) => list.push(`${seq}+${count}:${err ? (err instanceof PulsarWireError ? err.kind : 'error') : 'stored'}`) };
}

describe('a transient send error', () => {
  it('re-creates only that producer: the connection, another producer’s send and a transaction request carry on', async () => {
    const producerIds = new Map<string, number>();
    const held: (() => void)[] = [];
    let failed = false;
    const broker = await ScriptedBroker.start((cmd, s) => {
      switch (cmd.type) {
        case Cmd.PRODUCER:
          producerIds.set(cmd.producer!.producerName, u64(cmd.producer!.producerId));
          // A's new session: only now are B's receipt and the transaction's answer released.
          if (cmd.producer!.producerName === 'a' && u64(cmd.producer!.epoch) > 0) queueMicrotask(() => held.splice(0).forEach((f) => f()));
          return false;
        case Cmd.TC_CLIENT_CONNECT_REQUEST:
          writeRaw(s, { type: Cmd.TC_CLIENT_CONNECT_RESPONSE, tcClientConnectResponse: { requestId: requestIdOf(cmd) } });
          return true;
        case Cmd.NEW_TXN: {
          const requestId = requestIdOf(cmd);
          held.push(() => writeRaw(s, { type: Cmd.NEW_TXN_RESPONSE, newTxnResponse: { requestId, txnidLeastBits: 1, txnidMostBits: 0 } }));
          return true;
        }
        case Cmd.SEND: {
          const id = u64(cmd.send!.producerId);
          if (id === producerIds.get('b')) {
            const seq = u64(cmd.send!.sequenceId);
            held.push(() => s.reply({ type: Cmd.SEND_RECEIPT, sendReceipt: { producerId: id, sequenceId: seq, highestSequenceId: seq, messageId: { ledgerId: 2, entryId: seq } } }));
            return true;
          }
          if (failed) return false;
          failed = true;
          sendError(s, cmd, PERSISTENCE_ERROR);
          return true;
        }
        default:
          return false;
      }
    });
    open.push(broker);
    const c = client(broker.url);
    const a = outcomes();
    const pa = await c.createProducer({ topic: 'persistent://t/ns/a', producerName: 'a', batching: false, onEntry: a.onEntry });
    const pb = await c.createProducer({ topic: 'persistent://t/ns/b', producerName: 'b', batching: false });
    const txn = new TransactionCoordinator(c, 0).newTxn(5_000);
    const bSent = pb.send(new Uint8Array([2]));
    await until(() => held.length === 2);

    pa.sendMessages(new Uint8Array(2), 1, 2, 0);
    await expect(txn).resolves.toEqual({ mostBits: 0, leastBits: 1 });
    await expect(bSent).resolves.toMatchObject({ ledgerId: 2 });
    expect(await pa.flush(3_000)).toBe(true);
    // 1's receipt came while the session restarted: it settled there and was not resent.
    expect(a.list.sort()).toEqual(['0+1:stored', '1+1:stored']);
    expect(broker.commands(Cmd.SEND).filter((x) => u64(x.send!.producerId) === producerIds.get('a')).map((x) => u64(x.send!.sequenceId))).toEqual([0, 1, 0]);
    expect(broker.sessions.length).toBe(1);
    expect(broker.commands(Cmd.CLOSE_PRODUCER).map((x) => u64(x.closeProducer!.producerId))).toEqual([producerIds.get('a')]);
    expect(broker.commands(Cmd.PRODUCER).filter((x) => x.producer!.producerName === 'a').map((x) => u64(x.producer!.epoch))).toEqual([0, 1]);
    expect(pa.stats).toMatchObject({ reconnects: 1 });
    expect(pb.stats.reconnects).toBe(0);
  });
});

/** A TCP transport that keeps every frame it writes, so a test can change one afterwards. */
function capturing(): { frames: Uint8Array[]; factory: TransportFactory } {
  const frames: Uint8Array[] = [];
  const factory: TransportFactory = async (host, port, timeoutMs) => {
    const inner = await tcpTransport(host, port, timeoutMs);
    const t: Transport = {
      remote: inner.remote,
      write: (bytes) => {
        frames.push(bytes);
        inner.write(bytes);
      },
      get bufferedBytes() {
        return inner.bufferedBytes;
      },
      end: () => inner.end(),
      destroy: (err) => inner.destroy(err),
      attach: (onData, onClose) => inner.attach(onData, onClose),
    };
    return t;
  };
  return { frames, factory };
}

describe('a ChecksumError', () => {
  it('resends an entry whose checksum still verifies, in a new producer session', async () => {
    let refused = false;
    const broker = await ScriptedBroker.start((cmd, s) => {
      if (cmd.type !== Cmd.SEND || refused) return false;
      refused = true;
      sendError(s, cmd, CHECKSUM_ERROR);
      return true;
    });
    open.push(broker);
    const o = outcomes();
    const p = await client(broker.url).createProducer({ topic: 'persistent://t/ns/c', producerName: 'c', batchMaxDelayMs: 1, onEntry: o.onEntry });
    p.sendMessages(new Uint8Array(30), 10, 3, 0);
    expect(await p.flush(3_000)).toBe(true);
    expect(o.list).toEqual(['0+3:stored']);
    expect(broker.commands(Cmd.SEND)).toHaveLength(2);
    expect(broker.commands(Cmd.CLOSE_PRODUCER)).toHaveLength(1);
    expect(broker.sessions.length).toBe(1);
  });

  it('fails an entry whose bytes no longer match their checksum, without resending it', async () => {
    const { frames, factory } = capturing();
    const broker = await ScriptedBroker.start((cmd, s) => {
      if (cmd.type !== Cmd.SEND) return false;
      // The entry as the client holds it changes after it was written (memory corruption).
      const frame = frames.find((f) => f.length > 200)!;
      frame[frame.length - 1] = frame[frame.length - 1]! ^ 0xff;
      sendError(s, cmd, CHECKSUM_ERROR);
      return true;
    });
    open.push(broker);
    const o = outcomes();
    const p = await client(broker.url, factory).createProducer({ topic: 'persistent://t/ns/d', producerName: 'd', batchMaxDelayMs: 1, onEntry: o.onEntry });
    p.sendMessages(new Uint8Array(300), 100, 3, 0);
    await until(() => o.list.length === 1);
    expect(o.list).toEqual(['0+3:corrupt']);
    await new Promise((r) => setTimeout(r, 100));
    expect(broker.commands(Cmd.SEND)).toHaveLength(1);
    expect(broker.commands(Cmd.CLOSE_PRODUCER)).toHaveLength(0);
  });

  it('gives an entry up after MAX_CHECKSUM_RESENDS resends instead of resending for ever', async () => {
    const broker = await ScriptedBroker.start((cmd, s) => {
      if (cmd.type !== Cmd.SEND) return false;
      sendError(s, cmd, CHECKSUM_ERROR);
      return true;
    });
    open.push(broker);
    const o = outcomes();
    const p = await client(broker.url).createProducer({ topic: 'persistent://t/ns/e', producerName: 'e', batching: false, onEntry: o.onEntry });
    p.sendMessages(new Uint8Array(1), 1, 1, 0);
    await until(() => o.list.length === 1, 5_000);
    expect(o.list).toEqual(['0+1:corrupt']);
    expect(broker.commands(Cmd.SEND)).toHaveLength(1 + MAX_CHECKSUM_RESENDS);
    expect(p.pendingCount).toBe(0);
  });
});
