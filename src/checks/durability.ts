/**
 * What a crash did to delivery, judged against what the system promised. A memory-only
 * configuration that loses acknowledged messages keeps its (absent) promise, and the
 * report says it lost them; a durable one that loses any breaks its promise.
 */
import type { Capabilities } from '../core/contract.ts';
import type { DeliveryCounts } from '../core/result.ts';

export interface DurabilityFinding {
  fault: string;
  injected: boolean;
  /** what the configuration promises about acknowledged messages across this fault */
  promise: 'acked messages survive' | 'none (not durable)';
  promiseKept: boolean;
  ackedLost: number;
  unackedDelivered: number;
  duplicates: number;
  /** kill → first message published after the kill was delivered (service restored end to end) */
  rtoMs: number | null;
  /** kill → first message published after the kill was acknowledged */
  rtoPublishMs: number | null;
  /** kill → broker ready again */
  restartMs: number | null;
  killAtMs: number | null;
  note: string;
  error?: string;
}

export function judgeDurability(
  capabilities: Capabilities,
  d: DeliveryCounts,
  fault: { fault: string; injected: boolean; killNs: number; restartedNs: number; error?: string },
  recovery: { publishNs: number; deliveryNs: number },
  measureStartNs: number,
): DurabilityFinding {
  const ms = (ns: number): number | null => (ns > 0 && fault.killNs > 0 ? Math.round((ns - fault.killNs) / 1e5) / 10 : null);
  const promise = capabilities.durable ? 'acked messages survive' : 'none (not durable)';
  const promiseKept = !capabilities.durable || d.ackedLost === 0;
  const what = fault.injected
    ? `${fault.fault}. A killed process leaves its writes in the OS page cache, so this does not show what a power loss or OS crash would do to data that was never fsynced.`
    : `no fault injected: ${fault.error ?? fault.fault}`;
  return {
    fault: fault.fault,
    injected: fault.injected,
    promise,
    promiseKept,
    ackedLost: d.ackedLost,
    unackedDelivered: d.unackedDelivered,
    duplicates: d.duplicated,
    rtoMs: ms(recovery.deliveryNs),
    rtoPublishMs: ms(recovery.publishNs),
    restartMs: ms(fault.restartedNs),
    killAtMs: fault.killNs > 0 ? Math.round((fault.killNs - measureStartNs) / 1e6) : null,
    note: what,
    ...(fault.error ? { error: fault.error } : {}),
  };
}
