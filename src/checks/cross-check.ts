/**
 * The broker's own counts against the ledger: a second, independent witness. Each bound
 * holds only where nothing legitimately moves the broker's counter (re-sends, reconnects,
 * restarts, pipeline stages); where it cannot hold, the count is shown but not judged.
 */
import type { BrokerCounts } from '../core/contract.ts';
import type { DeliveryCounts, SystemResult } from '../core/result.ts';

export interface CrossCheckContext {
  /** deliberate re-sends: stored twice where nothing deduplicates them */
  resent: number;
  stages: number;
  /** a consumer closed and reconnected during the run */
  reconnected: boolean;
  /** a fault restarted the broker */
  restarted: boolean;
  durable: boolean;
}

type Check = { agrees: boolean | null; note: string };

function storedCheck(stored: number, d: DeliveryCounts, c: CrossCheckContext): Check {
  if (c.restarted && !c.durable) return { agrees: null, note: `broker stored ${stored}, not judged: the broker is not durable and was restarted` };
  const low = d.acked;
  if (c.restarted) {
    // Producers send again what was unanswered when the broker died, and it may store those twice.
    const agrees = stored >= low;
    return { agrees, note: `broker stored ${stored}, ${agrees ? 'at least' : 'fewer than'} acked ${low} (no upper bound across a restart: unanswered sends are sent again)` };
  }
  // The broker may hold messages whose ack never arrived (unknown), never ones that failed.
  const high = d.sent - d.failed + c.resent;
  const agrees = stored >= low && stored <= high;
  return { agrees, note: `broker stored ${stored}, ${agrees ? 'within' : 'outside'} [acked ${low}, sent-failed${c.resent > 0 ? '+re-sent' : ''} ${high}]` };
}

/**
 * Every distinct message received was delivered by the broker at least once, and it
 * delivered no more often than the consumers received. Where consumers reconnected, what a
 * closed consumer had prefetched or left unacknowledged is delivered again (and a system
 * may count acknowledgements), and a restart may reset the broker's counter: no bound holds.
 */
function deliveredCheck(delivered: number, d: DeliveryCounts, c: CrossCheckContext): Check {
  const why = c.stages > 1 ? "it counts stage 0's deliveries to the next stage" : c.restarted ? 'the broker restarted' : c.reconnected ? 'consumers reconnected' : '';
  if (why) return { agrees: null, note: `broker delivered ${delivered}, not judged: ${why}` };
  const low = d.received - d.duplicated;
  const high = d.received;
  const agrees = delivered >= low && delivered <= high;
  return { agrees, note: `broker delivered ${delivered}, ${agrees ? 'within' : 'outside'} [distinct received ${low}, deliveries ${high}]` };
}

export function crossCheck(b: BrokerCounts, d: DeliveryCounts, c: CrossCheckContext): NonNullable<SystemResult['broker']> {
  const checks = [
    ...(b.stored !== undefined ? [storedCheck(b.stored, d, c)] : []),
    ...(b.delivered !== undefined ? [deliveredCheck(b.delivered, d, c)] : []),
  ];
  if (checks.length === 0) return { ...b, agrees: null, note: 'the broker reported no count' };
  const judged = checks.filter((x) => x.agrees !== null);
  const agrees = judged.length === 0 ? null : judged.every((x) => x.agrees === true);
  return { ...b, agrees, note: checks.map((x) => x.note).join('; ') };
}

/** A clean run whose broker disagrees with the ledger is not a number to quote. */
export function withCrossCheck(status: SystemResult['status'], broker: SystemResult['broker']): SystemResult['status'] {
  return status === 'ok' && broker?.agrees === false ? 'warning' : status;
}
