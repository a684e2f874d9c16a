/**
 * What the consumers of one worker threw away undelivered (Consumer.discarded), summed
 * over every instance a crash or an abort replaced: each is read once closed, when its
 * count is final.
 */
import type { DiscardedEntries } from '../../core/contract.ts';

const MAX_REASONS = 10;

export class Discards {
  private entries = 0;
  private told = false;
  private readonly reasons = new Set<string>();

  add(closed: { discarded?(): DiscardedEntries | undefined }): void {
    const d = closed.discarded?.();
    if (!d) return;
    this.told = true;
    this.entries += d.entries;
    for (const r of d.reasons) if (this.reasons.size < MAX_REASONS) this.reasons.add(r);
  }

  /** undefined when no instance could tell (a system whose consumers never discard) */
  result(): DiscardedEntries | undefined {
    return this.told ? { entries: this.entries, reasons: [...this.reasons] } : undefined;
  }
}
