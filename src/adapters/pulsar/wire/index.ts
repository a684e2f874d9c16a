/**
 * A Pulsar client for busbench, written against the binary protocol (the npm
 * pulsar-client package needs a native library this machine cannot download).
 *
 * Layers, each its own module:
 *   crc32c.ts     checksum               framing.ts   frames on bytes
 *   proto.ts      commands (protobufjs)  fastcodec.ts hot-path protobuf by hand
 *   batch.ts      entries and batches    transport.ts the socket
 *   connection.ts handshake, requests, routing, keepalive
 *   lookup.ts     topic lookup with redirects
 *   reconnect.ts  backoff retries and the reconnect loop, shared
 *   producer.ts   batching, receipts, reconnect + resend
 *   consumer.ts   flow, batches, acks, redelivery, resubscribe
 *   transactions.ts the transaction coordinator's commands
 *   client.ts     connection pool and ids
 */
export { PulsarClient, type ClientOptions } from './client.ts';
export { Producer, type ProducerOptions, type ProducerStats, type SendCallback } from './producer.ts';
export { Consumer, ReceivedBatch, type ConsumerOptions, type ConsumerStats, type Message } from './consumer.ts';
export { Connection, CLIENT_VERSION, PROTOCOL_VERSION } from './connection.ts';
export { lookupTopic, type BrokerAddress } from './lookup.ts';
export { compareMessageIds, formatMessageId, isDuplicateId, messageId, type MessageId } from './message-id.ts';
export type { TxnId } from './fastcodec.ts';
export { TransactionCoordinator, TC_ASSIGN_TOPIC, txnName, type SubscriptionRef } from './transactions.ts';
export { tcpTransport, tlsTransport, parseServiceUrl, type TlsOptions, type Transport, type TransportFactory } from './transport.ts';
export {
  PulsarError,
  PulsarWireError,
  SERVER_ERRORS,
  isDefinitiveSendError,
  isRetriable,
  serverErrorName,
  type PulsarErrorKind,
  type ServerErrorName,
} from './errors.ts';
