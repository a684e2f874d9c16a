/**
 * The console tables of the fault scenarios: what a crash did to delivery (persistence)
 * and whether each message was applied once (exactly-once). They say what fault was
 * injected and judge each run against what its configuration promised.
 */
import type { SystemResult } from '../../core/result.ts';
import { formatTable } from './table.ts';

type Paint = (code: number, text: string) => string;

const ms = (v: unknown): string => (typeof v === 'number' ? `${v >= 1000 ? (v / 1000).toFixed(1) + 's' : Math.round(v) + 'ms'}` : '—');
const labelOf = (s: SystemResult): string => (typeof s.config.label === 'string' ? s.config.label : '');

export function durabilityTable(systems: SystemResult[], paint: Paint): string | undefined {
  const rows = systems.filter((s) => s.durability).map((s) => {
    const d = s.durability!;
    const kept = d.promiseKept === true;
    const ackedLost = Number(d.ackedLost ?? 0);
    const durable = d.promise === 'acked messages survive';
    // a count, not a set: held messages may or may not be the lost ones
    const held = Math.min(s.delivery.undeliveredAtDeadline ?? 0, ackedLost);
    const verdict =
      d.injected !== true
        ? paint(33, 'no fault injected')
        : !kept
          ? paint(31, held > 0 ? `PROMISE BROKEN unless the broker still had them: it held ${held} at the drain deadline` : 'PROMISE BROKEN')
          : !durable
            ? paint(33, ackedLost > 0 ? 'NOT DURABLE: lost acked data' : 'NOT DURABLE: would lose any unconsumed backlog (none this time)')
            : 'kept';
    return [
      s.system,
      labelOf(s),
      String(d.promise ?? ''),
      ackedLost > 0 ? paint(kept ? 33 : 31, held > 0 ? `${ackedLost} (${held} held)` : String(ackedLost)) : '0',
      String(d.unackedDelivered ?? 0),
      String(d.duplicates ?? 0),
      ms(d.rtoPublishMs),
      ms(d.rtoMs),
      d.injected === true && d.rtoMs === null ? `${verdict}; ${paint(31, 'not restored before the run ended')}` : verdict,
    ];
  });
  if (rows.length === 0) return undefined;
  const faults = [...new Set(systems.filter((s) => s.durability?.injected === true).map((s) => `fault (${s.system}): ${String(s.durability!.fault)}`))];
  return [
    formatTable(['system', 'run', 'promise', 'acked lost', 'unacked delivered', 'duplicates', 'RTO publish', 'RTO delivery', 'verdict'], rows, {
      align: ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'l'],
    }),
    ...faults,
    ...(faults.length > 0
      ? ['A killed process leaves its writes in the OS page cache: this shows what a process crash does, not what a power loss or OS crash would do to data never fsynced.']
      : []),
  ].join('\n');
}

export function exactlyOnceTable(systems: SystemResult[], paint: Paint): string | undefined {
  const runs = systems.filter((s) => s.exactlyOnce);
  if (runs.length === 0) return undefined;
  const rows = runs.map((s) => {
    const e = s.exactlyOnce!;
    const broken = e.neverApplied > 0 || (e.guarantee === 'exactly-once' && (e.appliedTwice > 0 || !e.stateCorrect));
    return [
      s.system,
      labelOf(s),
      e.appliedTwice > 0 ? paint(e.guarantee === 'exactly-once' ? 31 : 33, String(e.appliedTwice)) : '0',
      e.neverApplied > 0 ? paint(31, String(e.neverApplied)) : '0',
      String(e.skippedByRecord),
      e.stateCorrect ? 'correct' : `${e.accountsWrong} accounts off`,
      e.costRatio === null ? '—' : `${e.costRatio}×`,
      e.costRatioP99 === null ? '—' : `${e.costRatioP99}×`,
      broken ? paint(31, 'FAILED') : e.guarantee === 'exactly-once' ? 'exactly once' : 'at least once',
    ];
  });
  const faults = [...new Set(runs.flatMap((s) => s.exactlyOnce!.faults.map((f) => f.replace(/: \d+.*$/, ''))))];
  return [
    formatTable(['system', 'run', 'applied twice', 'acked never applied', 'skipped by record', 'state', 'cost msg/s', 'cost p99', 'verdict'], rows, {
      align: ['l', 'l', 'r', 'r', 'r', 'l', 'r', 'r', 'l'],
    }),
    `faults injected: ${faults.length ? faults.join('; ') : 'none'}; cost = at-least-once msg/s ÷ exactly-once msg/s, and exactly-once p99 ÷ at-least-once p99`,
  ].join('\n');
}
