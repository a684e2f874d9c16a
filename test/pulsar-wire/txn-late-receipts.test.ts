/**
 * The transactional forwarder against a stand-in broker: the first transaction's send goes
 * unanswered until it has aborted with the entry still pending, and that entry's late
 * outcome (here a send error) must not decide the next transaction.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TransactionalForwarder } from '../../src/adapters/pulsar/forwarder.ts';
import type { PulsarInit } from '../../src/adapters/pulsar/init.ts';
import type { ConsumerSpec } from '../../src/core/contract.ts';
import { Cmd, subCommand, TxnAction, u64, type InboundCommand } from '../../src/adapters/pulsar/wire/proto.ts';
import { ScriptedBroker } from './scripted-broker.ts';
import { batchEntry, deliver, writeRaw } from './raw-frames.ts';

const TXN_TIMEOUT_MS = 2_000;
/** ServerError.InvalidTxnStatus */
const INVALID_TXN_STATUS = 21;
const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

function init(serviceUrl: string): PulsarInit {
  const stageTopics = ['persistent://t/ns/late-0', 'persistent://t/ns/late-1'];
  return {
    serviceUrl, adminUrl: '', runId: 'late', topic: stageTopics[0]!, stageTopics, stage: 0, partitions: 0,
    subscription: 'fwd', subscriptionType: 'Shared', cumulativeAcks: false,
    batching: true, batchMaxMessages: 1000, batchMaxDelayMs: 1, batchMaxBytes: 128 * 1024, compression: 'none', receiverQueueSize: 10, ackGroupingMs: 0,
    sendTimeoutMs: TXN_TIMEOUT_MS, dedup: false, transactions: true, txnTimeoutMs: TXN_TIMEOUT_MS,
  };
}

/** A numeric field of the sub-command, whatever its type (the transaction requests are not in InboundCommand). */
function num(cmd: InboundCommand, field: string): number {
  return Number(String(subCommand(cmd)?.[field]));
}

/** Answers the coordinator's commands and acks; hands out two one-message entries; answers sequence 0 (the first transaction's) only with an error, when sequence 1 comes. */
async function txnBroker(): Promise<ScriptedBroker> {
  let txns = 0;
  let delivered = false;
  let lateAnswered = false;
  const responses: Partial<Record<number, [number, string]>> = {
    [Cmd.TC_CLIENT_CONNECT_REQUEST]: [Cmd.TC_CLIENT_CONNECT_RESPONSE, 'tcClientConnectResponse'],
    [Cmd.ADD_PARTITION_TO_TXN]: [Cmd.ADD_PARTITION_TO_TXN_RESPONSE, 'addPartitionToTxnResponse'],
    [Cmd.ADD_SUBSCRIPTION_TO_TXN]: [Cmd.ADD_SUBSCRIPTION_TO_TXN_RESPONSE, 'addSubscriptionToTxnResponse'],
    [Cmd.END_TXN]: [Cmd.END_TXN_RESPONSE, 'endTxnResponse'],
  };
  return ScriptedBroker.start((cmd, s) => {
    const response = responses[cmd.type];
    if (response) {
      writeRaw(s, { type: response[0], [response[1]]: { requestId: num(cmd, 'requestId') } });
      return true;
    }
    switch (cmd.type) {
      case Cmd.NEW_TXN:
        writeRaw(s, { type: Cmd.NEW_TXN_RESPONSE, newTxnResponse: { requestId: num(cmd, 'requestId'), txnidLeastBits: ++txns, txnidMostBits: 0 } });
        return true;
      case Cmd.ACK:
        writeRaw(s, { type: Cmd.ACK_RESPONSE, ackResponse: { consumerId: u64(cmd.ack!.consumerId), requestId: u64(cmd.ack!.requestId) } });
        return true;
      case Cmd.FLOW:
        if (!delivered) for (const entryId of [0, 1]) deliver(s, u64(cmd.flow!.consumerId), 7, entryId, batchEntry(1));
        delivered = true;
        return true;
      case Cmd.SEND: {
        const send = cmd.send!;
        if (u64(send.sequenceId) === 0) return true;
        // The aborted transaction's entry is answered late, ahead of the next one's, as a
        // broker refuses an append to a transaction it has aborted.
        if (!lateAnswered) s.reply({ type: Cmd.SEND_ERROR, sendError: { producerId: u64(send.producerId), sequenceId: 0, error: INVALID_TXN_STATUS, message: 'transaction aborted' } });
        lateAnswered = true;
        return false;
      }
      default:
        return false;
    }
  });
}

const SPEC: ConsumerSpec = { consumerId: 0, consumers: 1, producers: 1, messageSize: 1, control: { stopping: () => false } };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('transactional forwarder after an abort', () => {
  it('does not let the aborted transaction’s pending send decide the next one', async () => {
    const broker = await txnBroker();
    open.push(broker);
    const fwd = await TransactionalForwarder.open(init(broker.url), SPEC);
    open.push(fwd);
    // The send-timeout check runs every TXN_TIMEOUT_MS/4 from the producer's creation: send
    // just after one, so the first forward's wait ends before the entry's timeout is noticed.
    const tick = TXN_TIMEOUT_MS / 4;
    const t0 = Date.now();
    await sleep(tick + 50 - ((Date.now() - t0) % tick));
    const receive = async () => {
      const b = fwd.receive(1, 3_000);
      return b instanceof Promise ? await b : b;
    };
    await expect(fwd.forward(await receive())).rejects.toThrow(/not stored/);
    await expect(fwd.forward(await receive())).resolves.toBeUndefined();
    expect(broker.commands(Cmd.END_TXN).map((c) => [num(c, 'txnidLeastBits'), num(c, 'txnAction')])).toEqual([
      [1, TxnAction.ABORT],
      [2, TxnAction.COMMIT],
    ]);
  }, 15_000);
});
