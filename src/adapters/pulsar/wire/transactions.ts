/**
 * Transactions: the client side of a transaction coordinator (TC).
 *
 * A TC is a partition of the system topic pulsar/system/transaction_coordinator_assign;
 * the broker that owns partition N serves TC N. A transaction's id carries its TC in the
 * high half. Its life: NEW_TXN (with a timeout after which the TC aborts it), then every
 * topic it will produce to (ADD_PARTITION_TO_TXN) and every subscription it will
 * acknowledge on (ADD_SUBSCRIPTION_TO_TXN) registered before use, then END_TXN with
 * COMMIT or ABORT. Messages sent in a transaction stay invisible to consumers until the
 * commit, and its acknowledgements take effect only then.
 *
 * TC_CLIENT_CONNECT_REQUEST, sent on every new connection, waits until the TC has
 * loaded its log: after a broker restart that takes a while, and NEW_TXN fails with
 * TransactionCoordinatorNotFound until it has.
 */
import { Backoff } from './backoff.ts';
import type { Connection } from './connection.ts';
import { PulsarWireError } from './errors.ts';
import type { TxnId } from './fastcodec.ts';
import type { ClientCore } from './producer.ts';
import { Cmd, TxnAction, u64, type InboundCommand, type OutboundCommand } from './proto.ts';
import { retryWithin } from './reconnect.ts';

/** The partitioned system topic whose partition N is transaction coordinator N. */
export const TC_ASSIGN_TOPIC = 'persistent://pulsar/system/transaction_coordinator_assign';

export interface SubscriptionRef {
  topic: string;
  subscription: string;
}

export class TransactionCoordinator {
  private conn: Connection | null = null;
  private connecting: Promise<Connection> | null = null;
  private readonly backoff: Backoff;

  constructor(
    private readonly client: ClientCore,
    /** which coordinator (partition of TC_ASSIGN_TOPIC) this talks to */
    readonly tcId: number,
  ) {
    this.backoff = new Backoff(client.reconnectInitialMs, client.reconnectMaxMs);
  }

  /** Opens a transaction the coordinator aborts by itself if it is not ended within `timeoutMs`. */
  async newTxn(timeoutMs: number): Promise<TxnId> {
    // The field is named txn_ttl_seconds; brokers and the Java client treat it as milliseconds.
    const res = await this.request('NEW_TXN', (requestId) => ({ type: Cmd.NEW_TXN, newTxn: { requestId, txnTtlSeconds: timeoutMs, tcId: this.tcId } }));
    const r = res.newTxnResponse;
    if (!r) throw new PulsarWireError('protocol', `pulsar NEW_TXN: unexpected answer type ${res.type}`);
    return { mostBits: u64(r.txnidMostBits), leastBits: u64(r.txnidLeastBits) };
  }

  /** Registers topics (partitions) the transaction will produce to. */
  async addPartitions(txn: TxnId, topics: readonly string[]): Promise<void> {
    await this.request(`ADD_PARTITION_TO_TXN ${txnName(txn)}`, (requestId) => ({
      type: Cmd.ADD_PARTITION_TO_TXN,
      addPartitionToTxn: { requestId, txnidLeastBits: txn.leastBits, txnidMostBits: txn.mostBits, partitions: [...topics] },
    }));
  }

  /** Registers subscriptions the transaction will acknowledge on. */
  async addSubscriptions(txn: TxnId, subscriptions: readonly SubscriptionRef[]): Promise<void> {
    await this.request(`ADD_SUBSCRIPTION_TO_TXN ${txnName(txn)}`, (requestId) => ({
      type: Cmd.ADD_SUBSCRIPTION_TO_TXN,
      addSubscriptionToTxn: { requestId, txnidLeastBits: txn.leastBits, txnidMostBits: txn.mostBits, subscription: subscriptions.map((s) => ({ ...s })) },
    }));
  }

  commit(txn: TxnId): Promise<void> {
    return this.end(txn, TxnAction.COMMIT);
  }

  abort(txn: TxnId): Promise<void> {
    return this.end(txn, TxnAction.ABORT);
  }

  private async end(txn: TxnId, action: number): Promise<void> {
    const what = `END_TXN ${action === TxnAction.COMMIT ? 'COMMIT' : 'ABORT'} ${txnName(txn)}`;
    await this.request(what, (requestId) => ({ type: Cmd.END_TXN, endTxn: { requestId, txnidLeastBits: txn.leastBits, txnidMostBits: txn.mostBits, txnAction: action } }));
  }

  /**
   * One request to the coordinator. Only the connection is retried (lookup, handshake,
   * TC connect): a request that was sent and got no answer may have taken effect, and
   * its caller decides what that means for the transaction.
   */
  private async request(what: string, build: (requestId: number) => OutboundCommand): Promise<InboundCommand> {
    const conn = await this.connection();
    const requestId = this.client.newRequestId();
    return conn.request(build(requestId), requestId, `${what} (TC ${this.tcId})`);
  }

  /** The connection to the coordinator's broker, with the coordinator ready on it. */
  private connection(): Promise<Connection> {
    if (this.conn && !this.conn.closed) return Promise.resolve(this.conn);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private connect(): Promise<Connection> {
    return retryWithin(async () => {
      const addr = await this.client.lookup(`${TC_ASSIGN_TOPIC}-partition-${this.tcId}`);
      const conn = await this.client.connection(addr);
      const requestId = this.client.newRequestId();
      await conn.request({ type: Cmd.TC_CLIENT_CONNECT_REQUEST, tcClientConnectRequest: { requestId, tcId: this.tcId } }, requestId, `TC_CLIENT_CONNECT ${this.tcId}`);
      this.conn = conn;
      return conn;
    }, this.backoff, this.client.operationTimeoutMs);
  }
}

/** "(most,least)", as Pulsar prints transaction ids. */
export function txnName(txn: TxnId): string {
  return `(${txn.mostBits},${txn.leastBits})`;
}
