/**
 * The consumer's state in the exactly-once scenario: a balance per account, and the
 * idempotency record that remembers what was applied. Both stand for the consumer's
 * database: they outlive its connection to the system, which is what a crash between
 * processing and acknowledging takes away. A message is applied and recorded in one
 * synchronous step, so no simulated crash can fall between the two (a database
 * transaction gives a real consumer the same).
 */
import type { Capabilities } from '../../core/contract.ts';
import { SeqSet } from '../../checks/seqset.ts';
import { ApplyLedger, accountFor } from '../../checks/apply-ledger.ts';
import type { ApplyBehaviour, Guarantee } from '../../scenario/scenario.ts';

interface IdempotencyRecord {
  readonly name: string;
  seen(producerId: number, seq: number): boolean;
  remember(producerId: number, seq: number): void;
}

/** at-least-once: nothing is remembered, every delivery is applied */
const NO_RECORD: IdempotencyRecord = { name: 'none (every delivery is applied)', seen: () => false, remember: () => undefined };

class MessageIdRecord implements IdempotencyRecord {
  readonly name = 'idempotency record of applied (producer, sequence) ids';
  private readonly applied: SeqSet[] = [];
  seen(producerId: number, seq: number): boolean {
    return this.applied[producerId]?.has(seq) === true;
  }
  remember(producerId: number, seq: number): void {
    (this.applied[producerId] ??= new SeqSet()).add(seq);
  }
}

/** Enough only where each producer's messages arrive in order: one number per producer. */
class OffsetRecord implements IdempotencyRecord {
  readonly name = 'highest applied sequence per producer, committed with the state';
  private readonly highest: number[] = [];
  seen(producerId: number, seq: number): boolean {
    return seq <= (this.highest[producerId] ?? -1);
  }
  remember(producerId: number, seq: number): void {
    if (seq > (this.highest[producerId] ?? -1)) this.highest[producerId] = seq;
  }
}

/** The deliberately broken consumers hit every 50th sequence, so a short run shows them. */
const BROKEN_EVERY = 50;

export class AccountState {
  readonly balances: Float64Array;
  readonly ledger = new ApplyLedger();
  private readonly record: IdempotencyRecord;
  skipped = 0;

  constructor(
    private readonly accounts: number,
    guarantee: Guarantee,
    capabilities: Capabilities,
    private readonly behaviour: ApplyBehaviour,
  ) {
    this.balances = new Float64Array(accounts);
    this.record = guarantee === 'at-least-once' ? NO_RECORD : capabilities.idempotencyRecord === 'offset' ? new OffsetRecord() : new MessageIdRecord();
  }

  get recordName(): string {
    return this.record.name;
  }

  /** Applies one delivered message unless the record says it already was. */
  apply(producerId: number, seq: number, qty: number): void {
    if (this.record.seen(producerId, seq)) {
      this.skipped++;
      return;
    }
    const broken = seq % BROKEN_EVERY === 7;
    if (!(broken && this.behaviour === 'drop')) this.credit(producerId, seq, qty);
    if (broken && this.behaviour === 'apply-twice') this.credit(producerId, seq, qty);
    this.record.remember(producerId, seq);
  }

  private credit(producerId: number, seq: number, qty: number): void {
    this.balances[accountFor(producerId, seq, this.accounts)]! += qty;
    this.ledger.record(producerId, seq);
  }
}
