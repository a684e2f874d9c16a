/**
 * What a crash did to delivery, judged against what the system promised for that crash.
 * The promise has three levels (Capabilities.durability): none, across a process crash,
 * across a power loss. A kill -9 tests the second; a power loss (kill -9, then the
 * filesystem layer drops every write no fsync covered) tests the third. A configuration
 * that loses acknowledged messages to a fault it never promised to survive keeps its
 * promise, and the report says what it lost; one that promised and lost any breaks it.
 */
import type { Capabilities, DurabilityLevel, FaultKind, PowerCut } from '../core/contract.ts';
import type { DeliveryCounts } from '../core/result.ts';

export interface DurabilityFinding {
  fault: string;
  /** 'kill' or 'power-loss' */
  faultType: FaultKind['type'];
  injected: boolean;
  /** the level the configuration promises (Capabilities.durability) */
  level: DurabilityLevel;
  /** what the configuration promises about acknowledged messages across this fault */
  promise: string;
  promiseKept: boolean;
  ackedLost: number;
  /**
   * answered "already held" by deduplication and never delivered (DeliveryCounts): an
   * acknowledgement too, so it breaks the promise like ackedLost, but named apart because
   * what failed is the claim of an earlier store, not a store this send made
   */
  lostBehindDuplicate: number;
  unackedDelivered: number;
  duplicates: number;
  /** kill → first message published after the kill was delivered (service restored end to end) */
  rtoMs: number | null;
  /** kill → first message published after the kill was acknowledged */
  rtoPublishMs: number | null;
  /** kill → broker ready again */
  restartMs: number | null;
  killAtMs: number | null;
  /** power loss: what the filesystem layer dropped at the cut */
  layer?: PowerCut;
  /** the broker's own account of a service that did not come back (FaultInjector.serviceProblem) */
  serviceProblem?: string;
  note: string;
  error?: string;
}

export interface FaultOutcome {
  fault: string;
  kind: FaultKind;
  injected: boolean;
  killNs: number;
  restartedNs: number;
  cut?: PowerCut;
  serviceProblem?: string;
  error?: string;
}

const RANK: Record<DurabilityLevel, number> = { none: 0, 'process-crash': 1, 'power-loss': 2 };

/** Whether a configuration of this level promises that acknowledged messages survive this fault. */
export function promisedAcross(level: DurabilityLevel, fault: FaultKind['type']): boolean {
  return RANK[level] >= (fault === 'power-loss' ? RANK['power-loss'] : RANK['process-crash']);
}

const PROMISE_TEXT: Record<DurabilityLevel, string> = {
  none: 'none (not durable)',
  'process-crash': 'acked messages survive a process crash, not a power loss',
  'power-loss': 'acked messages survive a process crash and a power loss',
};

function noteOf(fault: FaultOutcome): string {
  if (!fault.injected) return `no fault injected: ${fault.error ?? fault.fault}`;
  if (fault.kind.type === 'kill') {
    return `${fault.fault}. A killed process leaves its writes in the OS page cache, so this does not show what a power loss or OS crash would do to data that was never fsynced (fault type power-loss does).`;
  }
  const cut = fault.cut;
  const dropped = cut ? `; the layer dropped ${cut.bytesDropped} unsynced bytes in ${cut.filesAffected} files${cut.tornFiles.length ? `, tore ${cut.tornFiles.length}` : ''}` : '';
  return `${fault.fault}${dropped}.`;
}

export function judgeDurability(
  capabilities: Capabilities,
  d: DeliveryCounts,
  fault: FaultOutcome,
  recovery: { publishNs: number; deliveryNs: number },
  measureStartNs: number,
): DurabilityFinding {
  const ms = (ns: number): number | null => (ns > 0 && fault.killNs > 0 ? Math.round((ns - fault.killNs) / 1e5) / 10 : null);
  const level = capabilities.durability;
  const promised = promisedAcross(level, fault.kind.type);
  const behindDuplicate = d.lostBehindDuplicate ?? 0;
  return {
    fault: fault.fault,
    faultType: fault.kind.type,
    injected: fault.injected,
    level,
    promise: PROMISE_TEXT[level],
    promiseKept: !promised || (d.ackedLost === 0 && behindDuplicate === 0),
    ackedLost: d.ackedLost,
    lostBehindDuplicate: behindDuplicate,
    unackedDelivered: d.unackedDelivered,
    duplicates: d.duplicated,
    rtoMs: ms(recovery.deliveryNs),
    rtoPublishMs: ms(recovery.publishNs),
    restartMs: ms(fault.restartedNs),
    killAtMs: fault.killNs > 0 ? Math.round((fault.killNs - measureStartNs) / 1e6) : null,
    ...(fault.cut ? { layer: fault.cut } : {}),
    ...(fault.serviceProblem ? { serviceProblem: fault.serviceProblem } : {}),
    note: noteOf(fault),
    ...(fault.error ? { error: fault.error } : {}),
  };
}
