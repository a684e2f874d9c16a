/**
 * What a person sees in the terminal: a progress line while running (TTY only, on
 * stderr) and the comparison table at the end.
 */
import { describePartitions } from '../../checks/partition-counts.ts';
import { describeTopics } from '../../checks/topic-counts.ts';
import type { RunResult, ScheduleStep, SearchOutcome, SystemResult } from '../../core/result.ts';
import type { Progress } from '../../core/progress.ts';
import { colorEnabled, formatTable } from './table.ts';
import { formatRate, formatUs } from './format.ts';
import { durabilityTable, exactlyOnceTable } from './findings.ts';
import { notSustained, unsentNote } from '../../checks/schedule.ts';
import { stepReached } from '../../checks/schedule-steps.ts';
import { backlogSummary } from '../../checks/backlog-drain.ts';
import { backlogFinding, backlogTrend } from '../../checks/backlog.ts';

export function paint(stream: NodeJS.WriteStream, code: number, text: string): string {
  return colorEnabled(stream) ? `\x1b[${code}m${text}\x1b[0m` : text;
}

function rowFor(s: SystemResult, stream: NodeJS.WriteStream): string[] {
  const l = s.latency.e2e;
  const d = s.delivery;
  const bad = (n: number): string => (n > 0 ? paint(stream, 31, String(n)) : '0');
  const label = typeof s.config.label === 'string' ? s.config.label : '';
  if (s.status === 'failed') {
    return [s.system, label, paint(stream, 31, 'FAILED'), '', '', '', '', '', '', '', '', '', ''];
  }
  return [
    s.system,
    label,
    formatRate(s.throughput.msgsPerSec),
    (s.throughput.bytesPerSec / 1e6).toFixed(1),
    formatUs(l.p50),
    formatUs(l.p90),
    formatUs(l.p99),
    formatUs(l.p999),
    formatUs(l.p9999),
    formatUs(l.max),
    bad(d.lost),
    bad(d.duplicated + d.outOfOrder),
    cpuPerMillion(s),
  ];
}

/** CPU s/M msg: (busbench + broker CPU seconds in the window) / messages received in it x 1e6; "*": busbench only. */
function cpuPerMillion(s: SystemResult): string {
  const r = s.resources;
  if (!r || r.cpuSecPerMillion === null) return '-';
  return `${r.cpuSecPerMillion.toFixed(r.cpuSecPerMillion >= 10 ? 1 : 2)}${r.brokers === 'not measured' ? '*' : ''}`;
}

export function summaryTable(result: RunResult, stream: NodeJS.WriteStream): string {
  const headers = ['system', 'run', 'msg/s', 'MB/s', 'p50', 'p90', 'p99', 'p99.9', 'p99.99', 'max', 'lost', 'dup/ooo', 'CPU s/M msg'];
  const right = [false, false, true, true, true, true, true, true, true, true, true, true, true];
  const table = formatTable(headers, result.systems.map((s) => rowFor(s, stream)), { align: right.map((r) => (r ? 'r' : 'l')) });
  const notes: string[] = [];
  for (const s of result.systems) {
    if (s.status === 'failed') notes.push(paint(stream, 31, `${s.system}: FAILED: ${s.error ?? 'unknown error'}`));
    else if (s.status === 'delivery-errors') notes.push(paint(stream, 31, `${s.system}: DELIVERY ERRORS: ${s.error ?? ''}`));
    else if (s.status === 'warning' && s.partitions?.agrees === false) notes.push(paint(stream, 31, `${s.system}: WARNING: the broker's own count disagrees with the ledger: ${s.partitions.note}`));
    else if (s.status === 'warning' && s.broker?.agrees === false) notes.push(paint(stream, 31, `${s.system}: WARNING: the broker's own count disagrees with the ledger: ${s.broker.note ?? ''}`));
    else if (s.status === 'warning') notes.push(paint(stream, 31, `${s.system}: WARNING: ${s.error ?? ''}`));
    if (s.status !== 'failed' && s.latency.e2e.count === 0) notes.push(paint(stream, 31, `${s.system}: no message arrived in the measured window: no latency data`));
    const repeats = s.throughput.repeatsInWindow ?? 0;
    const redelivery = s.latency.redelivery;
    if (repeats > 0 || (redelivery?.count ?? 0) > 0) {
      const p99 = redelivery && redelivery.count > 0 ? `; their latency p99 ${formatUs(redelivery.p99)} over ${redelivery.count}` : '';
      notes.push(`${s.system}: ${repeats} repeat deliveries in the window, counted in neither msg/s nor e2e${p99}`);
    }
    notes.push(...answerNotes(s, stream));
    const held = s.delivery.undeliveredAtDeadline ?? 0;
    if (held > 0) notes.push(paint(stream, 33, `${s.system}: drain deadline reached with ${held} messages still held by the broker: up to ${Math.min(held, s.delivery.lost)} of the ${s.delivery.lost} lost are undelivered at deadline, not proven lost`));
    if (s.broker) notes.push(`${s.system}: broker cross-check (${s.broker.source}): ${s.broker.agrees === false ? paint(stream, 31, s.broker.note ?? 'disagrees') : (s.broker.note ?? 'n/a')}`);
    if (s.partitions) notes.push(`${s.system}: ${s.partitions.agrees === false ? paint(stream, 31, describePartitions(s.partitions)) : describePartitions(s.partitions)}`);
    if (s.topics) notes.push(`${s.system}: ${s.topics.agrees === false || !s.topics.consistent ? paint(stream, 31, describeTopics(s.topics)) : describeTopics(s.topics)}`);
    if (s.latency.publish.count > 0) notes.push(`${s.system}: publish→ack p50 ${formatUs(s.latency.publish.p50)}, p99 ${formatUs(s.latency.publish.p99)}, max ${formatUs(s.latency.publish.max)}`);
    notes.push(...scheduleNotes(s, stream));
    if (s.sustainable) notes.push(...sustainableNotes(s.sustainable, stream).map((l) => `${s.system}: ${l}`));
    notes.push(...backlogNotes(s, stream));
    // a backlog run's queue is the experiment, not a finding about it
    const lag = s.status === 'failed' || s.backlog ? undefined : backlogTrend(s.intervals, result.parameters.intervalMs);
    const lagNote = lag && backlogFinding(lag, s.throughput.msgsPerSec, formatRate);
    if (lagNote) notes.push(paint(stream, 33, `${s.system}: ${lagNote}`));
  }
  if (result.systems.some((s) => s.resources)) {
    const partial = result.systems.some((s) => s.resources?.brokers === 'not measured') ? '; * busbench only: the broker is not busbench’s to measure (external, compose)' : '';
    notes.push(`CPU s/M msg: CPU seconds of busbench (all threads) and the broker processes during the measured window, per million messages received in it${partial}`);
  }
  const p = result.parameters;
  const matrix = result.cells.some((c) => c.repetitions > 1 || c.cell) ? ['', cellTable(result)] : [];
  const colour = (code: number, text: string): string => paint(stream, code, text);
  const findings = [durabilityTable(result.systems, colour), exactlyOnceTable(result.systems, colour)].flatMap((t) => (t ? ['', t] : []));
  const meaning = latencyMeaning(p.mode === 'closed', result.systems.some((s) => s.config.ratePerSec === 'max'));
  const header = `${result.scenario}: ${p.producers} producer(s), ${p.consumers} consumer(s), ${p.messageSize} B, ${p.backlog ? 'the window is a backlog build and drain,' : `${p.durationMs / 1000}s`} measured after ${p.warmupMs / 1000}s warm-up; ${meaning}; clock read ${result.environment.clockNsPerCall} ns`;
  return [header, '', table, ...matrix, ...findings, ...(notes.length ? ['', ...notes] : [])].join('\n');
}

/** Closed loop has no schedule: a batch is stamped once, when it is handed over. */
function latencyMeaning(closed: boolean, someMax: boolean): string {
  const handOver = "from the batch's hand-over to the system (closed loop: includes queueing behind the in-flight window)";
  if (closed) return `latency end-to-end ${handOver}`;
  return someMax ? `latency end-to-end from intended send time at a fixed rate, and in rate=max runs ${handOver}` : 'latency end-to-end from intended send time';
}

/** Duplicate answers and discarded entries, where there were any (older files lack both counts). */
function answerNotes(s: SystemResult, stream: NodeJS.WriteStream): string[] {
  const d = s.delivery;
  const out: string[] = [];
  const asDuplicate = d.ackedAsDuplicate ?? 0;
  const behind = d.lostBehindDuplicate ?? 0;
  if (asDuplicate > 0) {
    const lost = behind > 0 ? paint(stream, 31, `; ${behind} of them never arrived: lost behind a duplicate answer`) : '';
    out.push(`${s.system}: ${asDuplicate} acked only as duplicates (the system said it already held them from an earlier send)${lost}`);
  }
  const discarded = d.discardedEntries ?? 0;
  if (discarded > 0) out.push(paint(stream, 31, `${s.system}: ${discarded} entries discarded by the consumers (undeliverable), their messages counted lost`));
  return out;
}

/** Fixed rate: the send delay, and in red when the producers could not keep the schedule. */
function scheduleNotes(s: SystemResult, stream: NodeJS.WriteStream): string[] {
  const d = s.latency.sendDelay;
  const sc = s.schedule;
  if (!sc) return [];
  const out = d && d.count > 0 ? [`${s.system}: send delay (intended→handed over) p50 ${formatUs(d.p50)}, p99 ${formatUs(d.p99)}, max ${formatUs(d.max)}`] : [];
  for (const finding of [notSustained(sc, formatRate), unsentNote(sc)]) if (finding) out.push(paint(stream, 31, `${s.system}: ${finding}`));
  return [...out, ...stepNotes(s, stream)];
}

/** A schedule of steps: what each step offered and what came of it. */
export function stepNotes(s: SystemResult, stream?: NodeJS.WriteStream): string[] {
  const steps = s.schedule?.steps ?? [];
  if (steps.length === 0) return [];
  const us = (v: number | null): string => (v === null ? 'no data' : formatUs(v));
  // files from before the per-step verdict lack `reached`: judged here the same way
  const missed = (st: ScheduleStep): string => ((st.reached ?? stepReached(st)) ? '' : ` ${stream ? paint(stream, 31, 'NOT REACHED (< 99%)') : 'NOT REACHED (< 99%)'}`);
  return [
    `${s.system}: per step (offered → achieved sent, received; e2e latency of the step's deliveries):`,
    ...steps.map(
      (st) =>
        `  ${st.fromMs / 1000}–${st.toMs / 1000}s: offered ${formatRate(st.offeredPerSec)}/s → sent ${formatRate(st.achievedPerSec)}/s, received ${formatRate(st.receivedPerSec)}/s, p50 ${us(st.p50)}, p99 ${us(st.p99)}${missed(st)}`,
    ),
  ];
}

/** A backlog build and drain: what was reached, how fast it drained, and the drain phase's latency. */
export function backlogNotes(s: SystemResult, stream?: NodeJS.WriteStream): string[] {
  const b = s.backlog;
  if (!b) return [];
  const summary = backlogSummary(b, formatRate);
  const l = b.drainLatency;
  const latency = l.count > 0 ? `${s.system}: drain-phase e2e latency (deliveries while draining, backlog wait included) p50 ${formatUs(l.p50)}, p99 ${formatUs(l.p99)}, max ${formatUs(l.max)}` : `${s.system}: drain phase: no deliveries`;
  return [`${s.system}: ${b.drainMs === null && stream ? paint(stream, 31, summary) : summary}`, latency];
}

/** rate: sustainable: the answer, why the search stopped, and every step. */
function sustainableNotes(o: SearchOutcome, stream: NodeJS.WriteStream): string[] {
  const answer = o.sustainablePerSec === null ? paint(stream, 31, 'no sustainable rate found') : `maximum sustainable rate ${formatRate(o.sustainablePerSec)} msg/s`;
  const steps = o.steps.map((v) => `${formatRate(v.offeredPerSec)} ${v.pass ? 'pass' : `fail (${v.reason})`}`);
  return [`${answer}: ${o.converged ? o.stop : paint(stream, 33, o.stop)}`, `  search steps (offered msg/s): ${steps.join(', ')}`];
}

/** Per matrix cell: the median over repetitions and the spread (min–max) around it. */
function cellTable(result: RunResult): string {
  const rows = result.cells.map((c) => [
    c.system,
    c.cell,
    c.rate,
    String(c.repetitions),
    formatRate(c.msgsPerSec.median),
    `${formatRate(c.msgsPerSec.min)}–${formatRate(c.msgsPerSec.max)}`,
    formatUs(c.p99.median),
    `${formatUs(c.p99.min)}–${formatUs(c.p99.max)}`,
  ]);
  return formatTable(['system', 'cell', 'rate', 'reps', 'msg/s median', 'msg/s range', 'p99 median', 'p99 range'], rows, { align: ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r'] });
}

/** A one-line progress display, redrawn in place; silent when stderr is not a terminal. */
export class ProgressLine {
  private drawn = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  update(p: Progress): void {
    if (!this.enabled) return;
    const width = 20;
    const frac = p.totalMs > 0 ? Math.max(0, Math.min(1, p.elapsedMs / p.totalMs)) : 0;
    const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░');
    const p99 = p.p99Us === null ? '-' : formatUs(p.p99Us);
    const text = `${p.system}${p.label ? ` ${p.label}` : ''}  ${p.phase.padEnd(8)} ${bar} ${(p.elapsedMs / 1000).toFixed(1)}/${(p.totalMs / 1000).toFixed(0)}s  ${formatRate(p.msgsPerSec)} msg/s  p99 ${p99}  sent ${p.sent} recv ${p.received} backlog ${p.sent - p.received}`;
    this.stream.write(`\r\x1b[K${text}`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
