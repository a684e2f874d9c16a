/**
 * The qualitative columns of the comparison table (durability, exactly-once, delivery)
 * in words, from what a configuration promises (`capabilities`) and, when the scenario
 * tested it, what happened (`durability` / `exactlyOnce` blocks). `bad` marks a cell
 * the reader must not miss: a broken promise or a delivery error.
 */
import type { DurabilityLevel } from '../../core/contract.ts';
import type { SystemResult } from '../../core/result.ts';

export interface Described {
  /** short enough for a table cell */
  text: string;
  /** the full story, for a tooltip */
  detail: string;
  bad: boolean;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Keys of a block shown by name; the rest are listed as key=value so nothing is hidden. */
function rest(block: Record<string, unknown>, shown: string[]): string[] {
  return Object.entries(block)
    .filter(([k, v]) => !shown.includes(k) && v !== null && v !== undefined && typeof v !== 'object')
    .map(([k, v]) => `${k}=${String(v)}`);
}

const LEVEL_SHORT: Record<DurabilityLevel, string> = { none: 'memory only', 'process-crash': 'durable to kill -9', 'power-loss': 'durable to power loss' };
const LEVEL_LONG: Record<DurabilityLevel, string> = {
  none: 'promises nothing across a crash (memory only)',
  'process-crash': 'promises that acknowledged messages survive a kill -9 of the broker, not a power loss (written before the ack, fsynced later)',
  'power-loss': 'promises that acknowledged messages survive a kill -9 and a power loss (fsynced before the ack)',
};

function layerText(layer: unknown): string {
  if (typeof layer !== 'object' || layer === null) return '';
  const l = layer as Record<string, unknown>;
  const torn = Array.isArray(l.tornFiles) && l.tornFiles.length > 0 ? `, tore ${l.tornFiles.length}` : '';
  return `layer dropped ${num(l.bytesDropped) ?? '?'} unsynced bytes in ${num(l.filesAffected) ?? '?'} files (${String(l.mode)})${torn}`;
}

export function describeDurability(runs: SystemResult[]): Described {
  const s = runs[0]!;
  const level = s.capabilities.durability;
  const short = [LEVEL_SHORT[level]];
  const long = [LEVEL_LONG[level]];
  let bad = false;
  for (const r of runs) {
    const d = r.durability;
    if (!d) continue;
    const injected = d.injected === true;
    const ackedLost = num(d.ackedLost) ?? r.delivery.ackedLost;
    const behindDuplicate = num(d.lostBehindDuplicate) ?? 0;
    const rto = num(d.rtoMs);
    const restart = num(d.restartMs);
    const service = typeof d.serviceProblem === 'string' ? d.serviceProblem : undefined;
    const dropped = layerText(d.layer);
    if (d.promiseKept === false || service) bad = true;
    const dupText = behindDuplicate > 0 ? `, ${behindDuplicate} lost behind a duplicate answer` : '';
    short.push(injected ? `${d.promiseKept === false ? 'BROKEN: ' : ''}acked lost ${ackedLost}${dupText}${rto !== undefined ? `, RTO ${rto} ms` : ''}${service ? ', service not restored' : ''}` : 'fault not injected');
    long.push(
      [
        injected ? `fault: ${String(d.fault ?? 'injected')}` : `no fault injected${d.error ? `: ${String(d.error)}` : ''}`,
        `acked lost ${ackedLost}`,
        behindDuplicate > 0 ? `lost behind a duplicate answer ${behindDuplicate}` : '',
        d.promiseKept === false ? 'PROMISE BROKEN' : d.promiseKept === true ? 'promise kept' : '',
        rto !== undefined ? `RTO ${rto} ms` : '',
        restart !== undefined ? `restart ${restart} ms` : '',
        dropped,
        service ?? '',
        ...rest(d, ['fault', 'injected', 'ackedLost', 'lostBehindDuplicate', 'promiseKept', 'rtoMs', 'restartMs', 'error', 'serviceProblem']),
      ]
        .filter(Boolean)
        .join('; '),
    );
  }
  return { text: [...new Set(short)].join('; '), detail: [...new Set(long)].join(' | '), bad };
}

export function describeExactlyOnce(runs: SystemResult[]): Described {
  const c = runs[0]!.capabilities;
  const mechanisms = [c.transactions ? 'transactions' : '', c.deduplication ? 'dedup' : ''].filter(Boolean);
  const short = [mechanisms.length ? `yes: ${mechanisms.join(' + ')}` : 'no (at-least-once)'];
  const long = [mechanisms.length ? `supported by ${mechanisms.join(' and ')}` : 'not supported: at-least-once, needs an idempotent consumer'];
  let bad = false;
  for (const r of runs) {
    const e = r.exactlyOnce;
    if (!e) continue;
    const broken = e.neverApplied > 0 || (e.guarantee === 'exactly-once' && (e.appliedTwice > 0 || !e.stateCorrect));
    if (broken) bad = true;
    short.push(`${e.guarantee}: ${broken ? 'FAILED: ' : ''}applied twice ${e.appliedTwice}, never applied ${e.neverApplied}`);
    long.push(
      [
        `${e.guarantee} via ${e.mechanism}`,
        `applied twice ${e.appliedTwice}`,
        `acked never applied ${e.neverApplied}`,
        `state ${e.stateCorrect ? 'correct' : `wrong in ${e.accountsWrong} accounts`}`,
        e.costRatio !== null ? `cost ${e.costRatio}× throughput, ${e.costRatioP99 ?? '?'}× p99 vs ${e.comparedWith ?? 'at-least-once'}` : '',
        e.faults.length ? `faults: ${e.faults.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; '),
    );
  }
  return { text: [...new Set(short)].join('; '), detail: [...new Set(long)].filter(Boolean).join(' | '), bad };
}

/** Counts summed over the runs of a row; the counts older files lack add nothing. */
export function describeDelivery(runs: SystemResult[]): Described {
  const sum = (f: (s: SystemResult) => number | undefined): number => runs.reduce((a, s) => a + (f(s) ?? 0), 0);
  const lost = sum((s) => s.delivery.lost);
  const dup = sum((s) => s.delivery.duplicated);
  const ooo = sum((s) => s.delivery.outOfOrder);
  const ackedLost = sum((s) => s.delivery.ackedLost);
  const asDuplicate = sum((s) => s.delivery.ackedAsDuplicate);
  const behindDuplicate = sum((s) => s.delivery.lostBehindDuplicate);
  const discarded = sum((s) => s.delivery.discardedEntries);
  const unknown = sum((s) => s.delivery.unknown);
  const text = `${lost} · ${dup} · ${ooo}${discarded > 0 ? ` · ${discarded} entries discarded` : ''}`;
  const detail = [
    `lost ${lost}`,
    `duplicated ${dup}`,
    `out of order ${ooo}`,
    `acked but lost ${ackedLost}`,
    asDuplicate > 0 ? `acked only as duplicates (the system said it already held them) ${asDuplicate}` : '',
    behindDuplicate > 0 ? `lost behind a duplicate answer ${behindDuplicate}` : '',
    discarded > 0 ? `entries discarded by the consumers ${discarded}` : '',
    `unknown (no ack, no error) ${unknown}`,
    runs.length > 1 ? `summed over ${runs.length} runs` : '',
  ];
  return { text, detail: detail.filter(Boolean).join(', '), bad: lost + dup + ooo + ackedLost + behindDuplicate + discarded > 0 };
}
