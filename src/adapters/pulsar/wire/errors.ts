/**
 * Typed errors of the Pulsar client, in the manner of nats.js: callers branch on `kind`
 * (and, for broker replies, on `serverError`), never on message text.
 *
 * All are BusbenchErrors with code ADAPTER: they happen while a system runs.
 */
import { BusbenchError } from '../../../core/errors.ts';

/** ServerError of PulsarApi.proto, indexed by its wire value. */
export const SERVER_ERRORS = [
  'UnknownError',
  'MetadataError',
  'PersistenceError',
  'AuthenticationError',
  'AuthorizationError',
  'ConsumerBusy',
  'ServiceNotReady',
  'ProducerBlockedQuotaExceededError',
  'ProducerBlockedQuotaExceededException',
  'ChecksumError',
  'UnsupportedVersionError',
  'TopicNotFound',
  'SubscriptionNotFound',
  'ConsumerNotFound',
  'TooManyRequests',
  'TopicTerminatedError',
  'ProducerBusy',
  'InvalidTopicName',
  'IncompatibleSchema',
  'ConsumerAssignError',
  'TransactionCoordinatorNotFound',
  'InvalidTxnStatus',
  'NotAllowedError',
  'TransactionConflict',
  'TransactionNotFound',
  'ProducerFenced',
] as const;

export type ServerErrorName = (typeof SERVER_ERRORS)[number];

/** The name of a ServerError value; values from a newer broker keep their number. */
export function serverErrorName(code: number): ServerErrorName | `ServerError(${number})` {
  return SERVER_ERRORS[code] ?? `ServerError(${code})`;
}

export type PulsarErrorKind =
  /** the broker answered with an error (CommandError, SendError, a failed lookup) */
  | 'server'
  /** the connection could not be opened, or was lost */
  | 'connection'
  /** no answer within the operation or send timeout */
  | 'timeout'
  /** the broker's TLS certificate was refused (untrusted, or not for that host): retrying cannot help */
  | 'tls'
  /** the peer sent bytes that do not follow the protocol (bad frame, bad checksum) */
  | 'protocol'
  /** the client, producer or consumer was closed while the operation waited */
  | 'closed'
  /** the caller asked for something invalid (message too big, bad option) */
  | 'invalid'
  /** an entry the broker refused as corrupt (ChecksumError) and that is not resent: not stored */
  | 'corrupt';

export class PulsarWireError extends BusbenchError {
  /**
   * For send failures: false when the message never left the client (closed or failed
   * before it was written to any connection), so it cannot have been stored.
   */
  sent = true;

  constructor(
    readonly kind: PulsarErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('ADAPTER', message, options);
    this.name = 'PulsarWireError';
  }
}

/** An error reply from the broker: `serverError` is the ServerError enum name. */
export class PulsarError extends PulsarWireError {
  readonly serverError: ServerErrorName | `ServerError(${number})`;

  constructor(
    readonly serverCode: number,
    readonly serverMessage: string,
    /** what we asked, e.g. "PRODUCER persistent://t/ns/x" */
    readonly operation: string,
  ) {
    const name = serverErrorName(serverCode);
    super('server', `pulsar ${operation}: ${name}${serverMessage ? `: ${serverMessage}` : ''}`);
    this.serverError = name;
    this.name = 'PulsarError';
  }
}

/**
 * Server errors after which the same request may succeed later (possibly on another
 * broker after a fresh lookup). The Java client treats these the same way.
 */
const RETRIABLE: ReadonlySet<string> = new Set<ServerErrorName>([
  'ServiceNotReady',
  'TooManyRequests',
  'MetadataError',
  'PersistenceError',
  'UnknownError',
  'ChecksumError',
  'TransactionCoordinatorNotFound',
]);

/**
 * Whether retrying (reconnect, lookup again) can help. `reconnecting`: ProducerBusy and
 * ConsumerBusy then count as retriable too, since the broker may still hold our own
 * previous session; on a first attempt they mean someone else holds the name or the
 * exclusive subscription, and waiting would only delay the error.
 */
export function isRetriable(err: unknown, reconnecting = false): boolean {
  if (err instanceof PulsarError) return RETRIABLE.has(err.serverError) || (reconnecting && (err.serverError === 'ProducerBusy' || err.serverError === 'ConsumerBusy'));
  if (err instanceof PulsarWireError) return err.kind === 'connection' || err.kind === 'timeout';
  return false;
}

/**
 * Send errors that mean "this message was not stored and will not be": the broker
 * refuses the topic or the message itself. Any other SendError (PersistenceError is what
 * a bookie write failure or a deduplication "not sure yet" comes back as) is answered by
 * reconnecting and resending, as the Java client does, because the message may be stored.
 */
const DEFINITIVE_SEND_ERRORS: ReadonlySet<string> = new Set<ServerErrorName>([
  'TopicTerminatedError',
  'NotAllowedError',
  'TopicNotFound',
  'InvalidTopicName',
  'AuthorizationError',
  'ProducerFenced',
  'ProducerBlockedQuotaExceededError',
  'ProducerBlockedQuotaExceededException',
  'TransactionConflict',
  'InvalidTxnStatus',
  'TransactionNotFound',
]);

export function isDefinitiveSendError(err: unknown): boolean {
  if (err instanceof PulsarError) return DEFINITIVE_SEND_ERRORS.has(err.serverError);
  return err instanceof PulsarWireError && (err.kind === 'invalid' || err.kind === 'corrupt' || !err.sent);
}

export function connectionError(message: string, cause?: unknown): PulsarWireError {
  return new PulsarWireError('connection', message, cause === undefined ? undefined : { cause });
}

export function timeoutError(message: string): PulsarWireError {
  return new PulsarWireError('timeout', message);
}

export function protocolError(message: string): PulsarWireError {
  return new PulsarWireError('protocol', message);
}

export function closedError(message: string, cause?: unknown): PulsarWireError {
  return new PulsarWireError('closed', message, cause === undefined ? undefined : { cause });
}

/** A message given up before it was ever written to a broker. */
export function notSentError(message: string, cause?: unknown): PulsarWireError {
  const err = closedError(message, cause);
  err.sent = false;
  return err;
}

export function corruptError(message: string): PulsarWireError {
  return new PulsarWireError('corrupt', message);
}

export function invalidError(message: string): PulsarWireError {
  return new PulsarWireError('invalid', message);
}
