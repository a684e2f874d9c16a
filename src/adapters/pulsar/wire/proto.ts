/**
 * The protocol's commands through protobufjs, loaded at run time from our schema subset
 * (pulsar-api.proto, next to this file): no generated code, no build step.
 *
 * protobufjs's reflection types are untyped, so this module is the one place that casts:
 * it exposes typed interfaces for the commands we send and receive, and `u64()` to turn
 * decoded 64-bit values (protobufjs hands out Long objects for them) into numbers.
 * The per-message hot path does not come here: see fastcodec.ts.
 */
import fs from 'node:fs';
import protobuf from 'protobufjs';
import type { Long } from 'protobufjs';
import { protocolError } from './errors.ts';

const SCHEMA_FILE = new URL('./pulsar-api.proto', import.meta.url);

/** The parsed schema; exported for tests that compare fastcodec with it. */
export const schema: protobuf.Root = protobuf.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')).root;

const BaseCommandType = schema.lookupType('pulsar.proto.BaseCommand');

/** BaseCommand.Type values. */
export const Cmd = {
  CONNECT: 2,
  CONNECTED: 3,
  SUBSCRIBE: 4,
  PRODUCER: 5,
  SEND: 6,
  SEND_RECEIPT: 7,
  SEND_ERROR: 8,
  MESSAGE: 9,
  ACK: 10,
  FLOW: 11,
  UNSUBSCRIBE: 12,
  SUCCESS: 13,
  ERROR: 14,
  CLOSE_PRODUCER: 15,
  CLOSE_CONSUMER: 16,
  PRODUCER_SUCCESS: 17,
  PING: 18,
  PONG: 19,
  REDELIVER_UNACKNOWLEDGED_MESSAGES: 20,
  PARTITIONED_METADATA: 21,
  PARTITIONED_METADATA_RESPONSE: 22,
  LOOKUP: 23,
  LOOKUP_RESPONSE: 24,
  REACHED_END_OF_TOPIC: 27,
  GET_LAST_MESSAGE_ID: 29,
  GET_LAST_MESSAGE_ID_RESPONSE: 30,
  ACTIVE_CONSUMER_CHANGE: 31,
  ACK_RESPONSE: 38,
  NEW_TXN: 50,
  NEW_TXN_RESPONSE: 51,
  ADD_PARTITION_TO_TXN: 52,
  ADD_PARTITION_TO_TXN_RESPONSE: 53,
  ADD_SUBSCRIPTION_TO_TXN: 54,
  ADD_SUBSCRIPTION_TO_TXN_RESPONSE: 55,
  END_TXN: 56,
  END_TXN_RESPONSE: 57,
  TC_CLIENT_CONNECT_REQUEST: 62,
  TC_CLIENT_CONNECT_RESPONSE: 63,
  TOPIC_MIGRATED: 68,
} as const;

export type CmdType = (typeof Cmd)[keyof typeof Cmd];

/** Names of command types, for error messages and logs. */
export const CMD_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(Cmd).map(([k, v]) => [v, k]));

export const SubType = { Exclusive: 0, Shared: 1, Failover: 2, Key_Shared: 3 } as const;
export type SubTypeName = keyof typeof SubType;
export const InitialPosition = { Latest: 0, Earliest: 1 } as const;
export const LookupType = { Redirect: 0, Connect: 1, Failed: 2 } as const;
export const AckValidationError = { UncompressedSizeCorruption: 0, DecompressionError: 1, ChecksumMismatch: 2, BatchDeSerializeError: 3, DecryptionError: 4 } as const;
export const TxnAction = { COMMIT: 0, ABORT: 1 } as const;

/** A decoded 64-bit field: protobufjs gives a Long, or a number when it was set from one. */
export type U64 = number | Long;

/** A decoded uint64/int64 as a number (exact below 2^53; -1 stays -1). */
export function u64(v: U64 | null | undefined, fallback = 0): number {
  if (v === null || v === undefined) return fallback;
  if (typeof v === 'number') return v;
  if (v.high === 0) return v.low >>> 0;
  // Unsigned fields carry the broker's -1 as 2^64-1: read every uint64 as two's complement.
  if (v.high & 0x80000000) return -((~v.high >>> 0) * 4294967296 + (~v.low >>> 0) + 1);
  return (v.high >>> 0) * 4294967296 + (v.low >>> 0);
}

// ------------------------------------------------------------ sub-commands we send

export interface MessageIdOut {
  ledgerId: number;
  entryId: number;
  partition?: number;
  batchIndex?: number;
  /** messages in the entry (MessageIdData 6): what a transactional ack of a batch counts */
  batchSize?: number;
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface ConnectOut {
  clientVersion: string;
  protocolVersion: number;
  proxyToBrokerUrl?: string;
  /** "token" for token authentication, with the token's bytes as authData */
  authMethodName?: string;
  authData?: Uint8Array;
  featureFlags?: { supportsAuthRefresh?: boolean; supportsBrokerEntryMetadata?: boolean; supportsPartialProducer?: boolean; supportsTopicWatchers?: boolean };
}

export interface SubscribeOut {
  topic: string;
  subscription: string;
  subType: number;
  consumerId: number;
  requestId: number;
  consumerName?: string;
  priorityLevel?: number;
  durable?: boolean;
  metadata?: KeyValue[];
  initialPosition?: number;
  forceTopicCreation?: boolean;
  keySharedMeta?: { keySharedMode: number; allowOutOfOrderDelivery?: boolean };
  consumerEpoch?: number;
}

export interface ProducerOut {
  topic: string;
  producerId: number;
  requestId: number;
  producerName?: string;
  epoch?: number;
  userProvidedProducerName?: boolean;
  producerAccessMode?: number;
  metadata?: KeyValue[];
  txnEnabled?: boolean;
}

export interface AckOut {
  consumerId: number;
  ackType: number;
  messageId: MessageIdOut[];
  validationError?: number;
  txnidLeastBits?: number;
  txnidMostBits?: number;
  requestId?: number;
}

/** The commands we send through protobufjs (the hot ones go through fastcodec). */
export type OutboundCommand =
  | { type: typeof Cmd.CONNECT; connect: ConnectOut }
  | { type: typeof Cmd.SUBSCRIBE; subscribe: SubscribeOut }
  | { type: typeof Cmd.PRODUCER; producer: ProducerOut }
  | { type: typeof Cmd.FLOW; flow: { consumerId: number; messagePermits: number } }
  | { type: typeof Cmd.ACK; ack: AckOut }
  | { type: typeof Cmd.UNSUBSCRIBE; unsubscribe: { consumerId: number; requestId: number; force?: boolean } }
  | { type: typeof Cmd.CLOSE_PRODUCER; closeProducer: { producerId: number; requestId: number } }
  | { type: typeof Cmd.CLOSE_CONSUMER; closeConsumer: { consumerId: number; requestId: number } }
  | { type: typeof Cmd.PING; ping: Record<string, never> }
  | { type: typeof Cmd.PONG; pong: Record<string, never> }
  | { type: typeof Cmd.REDELIVER_UNACKNOWLEDGED_MESSAGES; redeliverUnacknowledgedMessages: { consumerId: number; messageIds?: MessageIdOut[]; consumerEpoch?: number } }
  | { type: typeof Cmd.PARTITIONED_METADATA; partitionMetadata: { topic: string; requestId: number } }
  | { type: typeof Cmd.LOOKUP; lookupTopic: { topic: string; requestId: number; authoritative: boolean; advertisedListenerName?: string } }
  | { type: typeof Cmd.GET_LAST_MESSAGE_ID; getLastMessageId: { consumerId: number; requestId: number } }
  | { type: typeof Cmd.TC_CLIENT_CONNECT_REQUEST; tcClientConnectRequest: { requestId: number; tcId: number } }
  | { type: typeof Cmd.NEW_TXN; newTxn: { requestId: number; txnTtlSeconds?: number; tcId?: number } }
  | { type: typeof Cmd.ADD_PARTITION_TO_TXN; addPartitionToTxn: { requestId: number; txnidLeastBits: number; txnidMostBits: number; partitions: string[] } }
  | {
      type: typeof Cmd.ADD_SUBSCRIPTION_TO_TXN;
      addSubscriptionToTxn: { requestId: number; txnidLeastBits: number; txnidMostBits: number; subscription: { topic: string; subscription: string }[] };
    }
  | { type: typeof Cmd.END_TXN; endTxn: { requestId: number; txnidLeastBits: number; txnidMostBits: number; txnAction: number } }
  // Only a test's stand-in broker sends these.
  | { type: typeof Cmd.CONNECTED; connected: { serverVersion: string; protocolVersion?: number; maxMessageSize?: number } }
  | { type: typeof Cmd.SUCCESS; success: { requestId: number } }
  | { type: typeof Cmd.ERROR; error: { requestId: number; error: number; message: string } }
  | { type: typeof Cmd.PRODUCER_SUCCESS; producerSuccess: { requestId: number; producerName: string; lastSequenceId?: number; producerReady?: boolean } }
  | {
      type: typeof Cmd.LOOKUP_RESPONSE;
      lookupTopicResponse: {
        requestId: number;
        response: number;
        brokerServiceUrl?: string;
        brokerServiceUrlTls?: string;
        authoritative?: boolean;
        proxyThroughServiceUrl?: boolean;
        error?: number;
        message?: string;
      };
    }
  | { type: typeof Cmd.PARTITIONED_METADATA_RESPONSE; partitionMetadataResponse: { requestId: number; partitions?: number; response?: number; error?: number; message?: string } }
  | { type: typeof Cmd.SEND_ERROR; sendError: { producerId: number; sequenceId: number; error: number; message: string } }
  | { type: typeof Cmd.SEND_RECEIPT; sendReceipt: { producerId: number; sequenceId: number; highestSequenceId?: number; messageId: MessageIdOut } };

export function encodeCommand(cmd: OutboundCommand): Uint8Array {
  return BaseCommandType.encode(cmd).finish();
}

// ------------------------------------------------------------ sub-commands we receive

export interface MessageIdIn {
  ledgerId: U64;
  entryId: U64;
  partition: number;
  batchIndex: number;
  /** 0 when unset */
  batchSize: number;
}

/**
 * A decoded BaseCommand. Unset optional fields read as their schema default (protobufjs
 * puts defaults on the prototype), so `producerReady` is true unless the broker said false.
 */
export interface InboundCommand {
  type: number;
  connected?: { serverVersion: string; protocolVersion: number; maxMessageSize: number };
  success?: { requestId: U64 };
  error?: { requestId: U64; error: number; message: string };
  producerSuccess?: { requestId: U64; producerName: string; lastSequenceId: U64; producerReady: boolean; topicEpoch?: U64 };
  sendError?: { producerId: U64; sequenceId: U64; error: number; message: string };
  lookupTopicResponse?: {
    requestId: U64;
    brokerServiceUrl: string;
    brokerServiceUrlTls: string;
    response: number;
    authoritative: boolean;
    proxyThroughServiceUrl: boolean;
    error: number;
    message: string;
  };
  partitionMetadataResponse?: { requestId: U64; partitions: number; response: number; error: number; message: string };
  closeProducer?: { producerId: U64; requestId: U64; assignedBrokerServiceUrl: string };
  closeConsumer?: { consumerId: U64; requestId: U64; assignedBrokerServiceUrl: string };
  activeConsumerChange?: { consumerId: U64; isActive: boolean };
  reachedEndOfTopic?: { consumerId: U64 };
  ackResponse?: { consumerId: U64; requestId: U64; error: number; message: string };
  getLastMessageIdResponse?: { requestId: U64; lastMessageId: MessageIdIn };
  topicMigrated?: { resourceId: U64; resourceType: number; brokerServiceUrl: string };
  tcClientConnectResponse?: { requestId: U64; error: number; message: string };
  newTxnResponse?: { requestId: U64; txnidLeastBits: U64; txnidMostBits: U64; error: number; message: string };
  addPartitionToTxnResponse?: { requestId: U64; error: number; message: string };
  addSubscriptionToTxnResponse?: { requestId: U64; error: number; message: string };
  endTxnResponse?: { requestId: U64; error: number; message: string };
  // Decoded by the stand-in broker of the tests (the client itself sends these).
  connect?: ConnectOut;
  producer?: { topic: string; producerId: U64; requestId: U64; producerName: string; epoch: U64 };
  subscribe?: { topic: string; subscription: string; subType: number; consumerId: U64; requestId: U64 };
  lookupTopic?: { topic: string; requestId: U64; authoritative: boolean; advertisedListenerName: string };
  partitionMetadata?: { topic: string; requestId: U64 };
  flow?: { consumerId: U64; messagePermits: number };
  getLastMessageId?: { consumerId: U64; requestId: U64 };
  send?: { producerId: U64; sequenceId: U64; numMessages: number; highestSequenceId: U64 };
  ack?: { consumerId: U64; ackType: number; messageId: MessageIdIn[]; requestId: U64 };
}

/** Decodes a BaseCommand with protobufjs; a malformed one is a protocol error. */
export function decodeCommand(bytes: Uint8Array): InboundCommand {
  try {
    return BaseCommandType.decode(bytes) as unknown as InboundCommand;
  } catch (err) {
    throw protocolError(`undecodable command (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** The sub-command's fields, whatever the type, for finding a request_id or an error. */
export function subCommand(cmd: InboundCommand): Record<string, unknown> | undefined {
  for (const [k, v] of Object.entries(cmd)) {
    if (k !== 'type' && v !== null && typeof v === 'object') return v as Record<string, unknown>;
  }
  return undefined;
}
