/**
 * The console tables of the fault scenarios: what a crash did to delivery (persistence)
 * and whether each message was applied once (exactly-once). They say what fault was
 * injected and judge each run against what its configuration promised.
 */
import type { SystemResult } from '../../core/result.ts';
import { formatTable } from './table.ts';
import { formatBytes } from '../../core/units.ts';

type Paint = (code: number, text: string) => string;

const ms = (v: unknown): string => (typeof v === 'number' ? `${v >= 1000 ? (v / 1000).toFixed(1) + 's' : Math.round(v) + 'ms'}` : '—');
const labelOf = (s: SystemResult): string => (typeof s.config.label === 'string' ? s.config.label : '');

type Finding = NonNullable<SystemResult['durability']>;

/** Did the configuration promise to survive the fault it got? (Files from before the levels: 'acked messages survive'.) */
function promisedThis(d: Finding): boolean {
  if (typeof d.level !== 'string') return d.promise === 'acked messages survive';
  return d.level === 'power-loss' || (d.level === 'process-crash' && d.faultType !== 'power-loss');
}

function verdictOf(s: SystemResult, d: Finding, paint: Paint): string {
  const ackedLost = Number(d.ackedLost ?? 0);
  const held = Math.min(s.delivery.undeliveredAtDeadline ?? 0, ackedLost);
  const powerLoss = d.faultType === 'power-loss';
  let verdict: string;
  if (d.injected !== true) verdict = paint(33, 'no fault injected');
  else if (d.promiseKept !== true) verdict = paint(31, held > 0 ? `PROMISE BROKEN unless the broker still had them: it held ${held} at the drain deadline` : 'PROMISE BROKEN');
  else if (!promisedThis(d)) {
    const what = powerLoss && d.level === 'process-crash' ? 'NOT DURABLE TO POWER LOSS' : 'NOT DURABLE';
    verdict = paint(33, ackedLost > 0 ? `${what}: lost acked data` : `${what}: would lose any unconsumed backlog (none this time)`);
  } else verdict = 'kept';
  const behindDuplicate = Number(d.lostBehindDuplicate ?? 0);
  if (behindDuplicate > 0) verdict = `${verdict}; ${paint(d.promiseKept === true ? 33 : 31, `${behindDuplicate} lost behind a duplicate answer`)}`;
  if (typeof d.serviceProblem === 'string') verdict = `${verdict}; ${paint(31, d.serviceProblem)}`;
  // a restart the run stopped waiting for (fault.restartWait), or one that failed
  if (d.injected === true && typeof d.error === 'string') return `${verdict}; ${paint(31, d.error)}`;
  if (typeof d.serviceProblem === 'string') return verdict;
  return d.injected === true && d.rtoMs === null ? `${verdict}; ${paint(31, 'not restored before the run ended')}` : verdict;
}

function droppedOf(d: Finding): string {
  const layer = d.layer as { bytesDropped?: unknown; tornFiles?: unknown } | undefined;
  if (!layer || typeof layer.bytesDropped !== 'number') return '—';
  const torn = Array.isArray(layer.tornFiles) && layer.tornFiles.length > 0 ? ` (${layer.tornFiles.length} torn)` : '';
  return `${formatBytes(layer.bytesDropped)}${torn}`;
}

const KILL_NOTE = 'A killed process leaves its writes in the OS page cache: kill -9 shows what a process crash does, not what a power loss or OS crash would do to data never fsynced (fault type power-loss does).';
const POWER_NOTE = 'A power loss: every broker process that lost power (all of them, unless fault.kill named nodes) got SIGKILL and the filesystem layer under its data dropped every write no fsync covered ("dropped"); it restarted on what was left.';

export function durabilityTable(systems: SystemResult[], paint: Paint): string | undefined {
  const runs = systems.filter((s) => s.durability);
  if (runs.length === 0) return undefined;
  const withLayer = runs.some((s) => s.durability!.faultType === 'power-loss');
  const rows = runs.map((s) => {
    const d = s.durability!;
    const ackedLost = Number(d.ackedLost ?? 0);
    const held = Math.min(s.delivery.undeliveredAtDeadline ?? 0, ackedLost);
    return [
      s.system,
      labelOf(s),
      String(d.promise ?? ''),
      ackedLost > 0 ? paint(d.promiseKept === true ? 33 : 31, held > 0 ? `${ackedLost} (${held} held)` : String(ackedLost)) : '0',
      String(d.unackedDelivered ?? 0),
      String(d.duplicates ?? 0),
      ...(withLayer ? [droppedOf(d)] : []),
      ms(d.rtoPublishMs),
      ms(d.rtoMs),
      verdictOf(s, d, paint),
    ];
  });
  const injected = runs.filter((s) => s.durability!.injected === true);
  const faults = [...new Set(injected.map((s) => `fault (${s.system}): ${String(s.durability!.fault)}`))];
  const notes = [...new Set(injected.map((s) => (s.durability!.faultType === 'power-loss' ? POWER_NOTE : KILL_NOTE)))];
  const head = ['system', 'run', 'promise', 'acked lost', 'unacked delivered', 'duplicates', ...(withLayer ? ['dropped'] : []), 'RTO publish', 'RTO delivery', 'verdict'];
  const align = head.map((h, i) => (i >= 3 && h !== 'verdict' ? 'r' : 'l') as 'l' | 'r');
  return [formatTable(head, rows, { align }), ...faults, ...notes].join('\n');
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
