/**
 * Where a message lives in a topic: ledger and entry (one entry per batch), the
 * partition (-1 for a non-partitioned topic) and the index within a batch (-1: the entry
 * holds a single, non-batched message).
 */
export interface MessageId {
  readonly ledgerId: number;
  readonly entryId: number;
  readonly partition: number;
  readonly batchIndex: number;
}

export function messageId(ledgerId: number, entryId: number, partition = -1, batchIndex = -1): MessageId {
  return { ledgerId, entryId, partition, batchIndex };
}

/**
 * The id a send receipt carries when the broker dropped the message as a duplicate of one
 * it had already persisted (deduplication): ledger and entry -1. The message is stored,
 * just not under a new id.
 */
export function isDuplicateId(id: MessageId): boolean {
  return id.ledgerId === -1 && id.entryId === -1;
}

/** "ledger:entry:partition:batchIndex", the form Pulsar's tools print. */
export function formatMessageId(id: MessageId): string {
  return `${id.ledgerId}:${id.entryId}:${id.partition}:${id.batchIndex}`;
}

/** Orders ids of one partition: ledger, then entry, then batch index. */
export function compareMessageIds(a: MessageId, b: MessageId): number {
  return a.ledgerId - b.ledgerId || a.entryId - b.entryId || a.batchIndex - b.batchIndex;
}
