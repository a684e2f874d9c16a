/**
 * The result file: results/<timestamp>-<scenario>.json. Other tools and CI read these
 * names, so the schema is versioned; a change that renames or removes a field bumps it.
 * Latencies are microseconds. Encoded histograms are HdrHistogram compressed base64 of
 * nanosecond values.
 */
import type { KeyPlan } from './keys.ts';
import type { PayloadPlan } from './payload.ts';
import type { Capabilities, BrokerCounts } from './contract.ts';
import type { LatencySummary } from './histogram.ts';
import type { ShardInfo, ShardLedger } from './shard.ts';

export const RESULT_SCHEMA = 'busbench/result@1';

export interface Environment {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  node: string;
  os: string;
  gitCommit: string | null;
  hostname: string;
  clockNsPerCall: number;
}

export interface RunParameters {
  systems: string[];
  mode: 'closed' | 'open';
  /** messages per second per run (all producers), or "max" for closed loop */
  rate: number | 'max';
  /** every rate of the scenario, as written (e.g. "max", "50% of max", "10000 msg/s") */
  rates: string[];
  durationMs: number;
  warmupMs: number;
  drainTimeoutMs: number;
  producers: number;
  consumers: number;
  /** with a payload: the largest message it makes */
  messageSize: number;
  /** what the bytes after the envelope were (absent: the order message padded to messageSize) */
  payload?: PayloadPlan;
  maxInFlight: number;
  batchSize: number;
  intervalMs: number;
  /** simulated handler work per message, µs */
  workUs: number;
  /** the key each message carries; absent without keys */
  keys?: KeyPlan;
  /** ordering domains the messages were spread over; absent = 1 */
  partitions?: number;
  /** streams, topics or lane sets producers and consumers were spread over; absent = 1 */
  topics?: number;
  /** the injected fault, if the scenario has one */
  fault?: { atMs: number; downtimeMs: number };
  /** the exactly-once scenario's plan: guarantees compared, stages, injected faults */
  exactlyOnce?: Record<string, unknown>;
  /** the backlog build and drain asked for (each run's `backlog` says what came of it) */
  backlog?: { messages: number; bytes: number; maxDrainMs: number; maxBuildMs?: number };
  brokers: 'native' | 'compose' | 'external';
}

export interface DeliveryCounts {
  sent: number;
  /** acknowledged as stored; a sequence whose only answer was "already held" is in ackedAsDuplicate instead */
  acked: number;
  /**
   * answered by the system's deduplication as already held from an earlier send, and never
   * acknowledged otherwise (AckSink.duplicate). Absent in files from before it was counted.
   */
  ackedAsDuplicate?: number;
  /** rejected with an error reply; not expected to arrive */
  failed: number;
  /** no ack and no error (timeout, lost connection): may or may not have been stored */
  unknown: number;
  received: number;
  /** distinct messages sent but never received (failed ones excluded) */
  lost: number;
  /** acknowledged messages never received: a broken durability promise */
  ackedLost: number;
  /**
   * of ackedAsDuplicate, never received: the system claimed to hold them and did not (a
   * high-water-mark deduplication answers a resend below its mark so). Absent in older files.
   */
  lostBehindDuplicate?: number;
  /** unacknowledged messages that were delivered anyway */
  unackedDelivered: number;
  /** every delivery beyond a message's first, at the same or another consumer */
  duplicated: number;
  outOfOrder: number;
  /**
   * of `duplicated`, deliveries of a message the same consumer had already received (a
   * redelivery after an ack wait or a reconnect); the rest reached a second consumer
   */
  redelivered?: number;
  /**
   * messages the broker still held (not delivered, or delivered and unacknowledged) when
   * the drain timed out, by its own count: up to this many of `lost`/`ackedLost` may
   * still have been delivered later, so they are not proven lost. Absent when the drain
   * ended with every message in, or the system cannot tell.
   */
  undeliveredAtDeadline?: number;
  /**
   * entries the consumers received and threw away undelivered (Consumer.discarded: a bad
   * checksum, an undecodable batch), summed over consumers; their messages count as lost.
   * Absent where the system's consumer cannot discard, and in older files.
   */
  discardedEntries?: number;
  /**
   * payload runs: messages whose body a consumer checked against the checksum in its
   * envelope (payload.verify), and of those, the ones that did not match. Absent without a
   * payload, with verify off, and in older files.
   */
  checksummed?: number;
  corrupted?: number;
}

/** One partition's share of a run (src/checks/partition-counts.ts). */
export interface PartitionCounts {
  partition: number;
  sent: number;
  acked: number;
  /** distinct messages received; over the partitions, received − duplicated */
  received: number;
  /** the broker's own counts for this partition, where it keeps them */
  brokerStored?: number;
  brokerDelivered?: number;
}

/** One topic's share of a run (src/checks/topic-counts.ts). */
export interface TopicCounts {
  topic: number;
  sent: number;
  acked: number;
  /** distinct messages received; over the topics, received − duplicated */
  received: number;
  /** acknowledged messages of the topic never received */
  ackedLost: number;
  /** the broker's own counts for this topic, where it keeps them */
  brokerStored?: number;
  brokerDelivered?: number;
}

export interface TopicsResult {
  counts: TopicCounts[];
  /** the counts add up to the run's totals and no topic lost an acknowledged message */
  consistent: boolean;
  /** every topic's broker counts within the ledger's bounds; null where not reported or not judged */
  agrees: boolean | null;
  note: string;
}

export interface PartitionsResult {
  counts: PartitionCounts[];
  /** every partition's broker counts within the ledger's bounds; null where not reported or not judged */
  agrees: boolean | null;
  note: string;
}

export interface IntervalStats {
  /** ms since the measured phase started (end of the interval) */
  tMs: number;
  phase: 'warmup' | 'measure' | 'drain';
  received: number;
  msgsPerSec: number;
  /**
   * the rate the schedule offered over this interval, msg/s (open loop: the fixed rate, or
   * a step's or a ramp's; 0 once the window has ended)
   */
  intendedPerSec?: number;
  p50: number;
  p99: number;
  max: number;
  /** messages the producers handed over in this interval (fixed rate and closed loop) */
  sent?: number;
  /** send-delay p99 of the messages handed over in this interval, µs (fixed rate; absent without data) */
  sendDelayP99?: number;
  /**
   * Consumer lag at the interval's end: messages handed over since the run began minus
   * first deliveries since then (in flight, queued or stored, not yet delivered). With
   * `sent` only; a message lost for good stays in it.
   */
  backlog?: number;
  /** closed before every worker reported it (a worker ended early): its figures are partial */
  incomplete?: true;
  /** reports that came after the interval closed: in `received`, not in the percentiles */
  lateReports?: number;
}

/** One step of the maximum-sustainable-rate search (src/checks/sustainable.ts). */
export interface StepVerdict {
  offeredPerSec: number;
  achievedPerSec: number;
  receivedPerSec: number;
  p99Us: number;
  backlogGrowthPerSec: number;
  pass: boolean;
  /** why it failed; empty when it passed */
  reason: string;
}

/** The search's steps and answer, on the result of its best passing step. */
export interface SearchOutcome {
  /** best passing offered rate; null when even the first step failed */
  sustainablePerSec: number | null;
  converged: boolean;
  /** why the search stopped */
  stop: string;
  steps: StepVerdict[];
}

/**
 * A fixed-rate run's schedule against what the producers managed. `intended` is
 * rate × (warm-up + window) messages, `achievedPerSec` the messages handed over inside
 * the window per second of it. `kept` applies `rule`; a schedule not kept is a finding
 * (in `error`), not a delivery error.
 */
export interface ScheduleResult {
  intendedPerSec: number;
  achievedPerSec: number;
  intended: number;
  sent: number;
  /** intended but never sent: only an aborted run leaves any */
  unsent: number;
  /** null: no message intended inside the window was sent */
  sendDelayP99Us: number | null;
  kept: boolean;
  rule: string;
  /** a rate schedule of steps: the figures of each step */
  steps?: ScheduleStep[];
}

/**
 * One step of a rate schedule. `offeredPerSec` is the schedule's; `achievedPerSec` the
 * messages handed over in the step, `receivedPerSec` the first deliveries in it, per
 * second; p50/p99 (µs, null without data) of the deliveries in the step's intervals.
 */
export interface ScheduleStep {
  /** ms since the measured phase started */
  fromMs: number;
  toMs: number;
  offeredPerSec: number;
  achievedPerSec: number;
  receivedPerSec: number;
  count: number;
  p50: number | null;
  p99: number | null;
  /** sent and received at ≥ 99% of offeredPerSec (src/checks/schedule-steps.ts); absent in older files */
  reached?: boolean;
}

/**
 * A backlog build and drain (scenario `backlog`): consumers paused from the window's start
 * until the backlog reached its target, then resumed while the producers kept their rate.
 */
export interface BacklogResult {
  /** what the scenario asked for, in whole messages of messageSize */
  target: { messages: number; bytes: number };
  /** the backlog when the consumers resumed */
  reached: { messages: number; bytes: number };
  /** the backlog as the consumers paused: what is in flight at the rate */
  baselineMessages: number;
  /** pause → resume */
  buildMs: number;
  /** the target was reached before maxBuildMs */
  built: boolean;
  /** resume → the backlog back at caughtUpAt; null: not within maxDrainMs */
  drainMs: number | null;
  /** how long the drain phase ran: drainMs, or maxDrainMs when it never caught up */
  drainPhaseMs: number;
  /** caught up: the backlog at or below this (the larger of twice the baseline and 1% of the target) */
  caughtUpAt: number;
  /** first deliveries per second in the drain phase, and their MB/s (10^6 B) */
  drainPerSec: number;
  drainMBPerSec: number;
  /** handed over per second in the drain phase */
  producePerSec: number;
  /** drainPerSec − producePerSec: how fast the backlog shrank */
  netDrainPerSec: number;
  /** the backlog when the drain phase ended */
  remainingMessages: number;
  maxBuildMs: number;
  maxDrainMs: number;
  /** e2e latency of the first deliveries received in the drain phase (their wait in the backlog included) */
  drainLatency: LatencySummary;
  /** in words: built and drained, or why not */
  verdict: string;
}

/** A broker process the harness started (with its descendants), over one run. */
export interface ProcessResources {
  name: string;
  pid: number;
  /** user + system CPU seconds from /proc/<pid>/stat, delta over the run */
  cpuSec: number;
  /** VmHWM of the process, plus its descendants' */
  peakRssBytes: number;
  /** descendant processes included */
  descendants?: number;
}

/**
 * Cost of one run, from the timeline's start to the end of the drain, except `window`,
 * which covers the measured window only.
 */
export interface RunResources {
  /** the main thread and every worker thread (one process) */
  busbench: { cpuSec: number; peakRssBytes: number };
  /** "not measured" where busbench does not own the broker (external, compose) */
  brokers: ProcessResources[] | 'not measured';
  /** CPU seconds of busbench and the brokers in the measured window, and the messages received in it */
  window?: { cpuSec: number; messages: number };
  /**
   * window.cpuSec / window.messages x 1e6: CPU seconds per million messages of the system
   * under test (busbench + brokers); without broker figures it is busbench's alone.
   */
  cpuSecPerMillion: number | null;
}

/** Latency values a histogram could not hold as they were: counted, never hidden. */
export interface LatencyErrors {
  /** above the highest trackable value (10 min), recorded as that value */
  clamped: number;
  /** below 0 (clock error), recorded as 0 */
  negative: number;
}

/** The faults that actually happened in the run, as numbers a test or a reader can check. */
export interface FaultCounts {
  /** messages the producers sent again as after a lost ack */
  resent: number;
  /** consumer crashes between processing a delivery and acknowledging it */
  consumerCrashes: number;
  /** pipeline stage crashes between forwarding and acknowledging */
  stageCrashes: number;
  /** broker kill -9s that completed (a planned kill that never happened counts 0) */
  brokerKills: number;
}

export interface ExactlyOnceFinding {
  guarantee: string;
  /** what kept (or was meant to keep) each message applied once */
  mechanism: string;
  /** messages the state took in more than once */
  appliedTwice: number;
  /** acknowledged messages the state never took in */
  neverApplied: number;
  /** distinct messages applied */
  applied: number;
  /** applications beyond the first, summed */
  extraApplications: number;
  /** applied although the producer never got an ack (allowed: the ack may have been lost) */
  unackedApplied: number;
  /** deliveries the consumer's idempotency record recognised as already applied */
  skippedByRecord: number;
  /** accounts whose balance differs from the exactly-once state */
  accountsWrong: number;
  /** the final state equals the exactly-once state */
  stateCorrect: boolean;
  /** filled in when the scenario also ran at-least-once on the same system: its throughput / this one's */
  costRatio: number | null;
  /** p99 end-to-end latency of this run / that of the at-least-once run */
  costRatioP99: number | null;
  comparedWith: string | null;
  /** the faults for people to read; `faultCounts` holds the same as numbers */
  faults: string[];
  faultCounts: FaultCounts;
}

export interface SystemResult {
  system: string;
  /** matrix cell, e.g. "storage=file,replicas=1"; absent without a matrix */
  cell?: string;
  /** 0-based repetition of this cell when the scenario repeats */
  repetition?: number;
  config: Record<string, unknown>;
  capabilities: Capabilities;
  /** warning: the run delivered cleanly but the broker's own count disagrees with the ledger (see `broker`) */
  status: 'ok' | 'warning' | 'delivery-errors' | 'failed';
  error?: string;
  /**
   * receivedInWindow: distinct messages whose first delivery (to any consumer) fell in the
   * measured window; msgsPerSec is made of it. repeatsInWindow: repeat deliveries in the
   * window, counted there only.
   */
  /**
   * bytesPerSec: msgsPerSec × messageSize, or with a payload the bytes received; messageBytes
   * (payload runs only): bytes per second of the first deliveries in the window, from their actual sizes
   */
  throughput: { msgsPerSec: number; bytesPerSec: number; messageBytes?: number; measuredMs: number; receivedInWindow: number; repeatsInWindow?: number };
  /**
   * e2e: first deliveries; redelivery: repeat deliveries (both of messages sent in the window);
   * sendDelay: intended send time → handed to the system's producer (fixed rate only)
   */
  latency: { e2e: LatencySummary; publish: LatencySummary; redelivery?: LatencySummary; sendDelay?: LatencySummary };
  delivery: DeliveryCounts;
  /** agrees: stored and delivered (where reported and comparable) within the ledger's bounds; false makes status 'warning' */
  broker?: BrokerCounts & { agrees: boolean | null; note?: string };
  /** per-partition counts, with more than one partition */
  partitions?: PartitionsResult;
  /** per-topic counts, with more than one topic */
  topics?: TopicsResult;
  intervals: IntervalStats[];
  histograms: { e2e: string; publish: string; redelivery?: string; sendDelay?: string; unit: 'ns' };
  /** fixed-rate runs only */
  schedule?: ScheduleResult;
  /** backlog build and drain (scenario `backlog`) */
  backlog?: BacklogResult;
  /** rate: sustainable: the search that chose this run's rate */
  sustainable?: SearchOutcome;
  /** clamped and negative values per histogram (e2e, publish, ...) */
  latencyErrors?: Record<string, LatencyErrors>;
  /**
   * The run's interval histograms (HdrHistogram interval log, tags e2e, ...): the file name
   * beside the result file, once written; during the run the temporary path.
   */
  intervalLog?: string;
  /**
   * Peak RSS of this run: busbench's own (resources.busbench) plus each broker process's
   * where measured (resources.brokers); busbench alone where brokers are not measured.
   */
  peakRssBytes: number;
  resources?: RunResources;
  durability?: Record<string, unknown>;
  exactlyOnce?: ExactlyOnceFinding & { stages?: Array<{ stage: string; forwarded: number; crashes: number; aborted: number }> };
  /** a shard's run (--shard i/N): where it sits in the whole run, and its ledgers for the merge */
  shard?: ShardInfo;
  ledger?: ShardLedger;
}

export interface RunResult {
  schema: typeof RESULT_SCHEMA;
  scenario: string;
  scenarioFile: string;
  startedAt: string;
  finishedAt: string;
  parameters: RunParameters;
  /** the scenario's per-system sections as resolved, and matrix cells if any */
  scenarioOptions: Record<string, unknown>;
  environment: Environment;
  systems: SystemResult[];
  /** median and spread per (system, cell, rate) across repetitions */
  cells: CellSummary[];
  /** every system's status is 'ok': a 'warning' (broker count disagrees) is not a number to quote */
  ok: boolean;
  /** made by merge from shard results (src/checks/merge/) */
  merged?: MergeInfo;
}

/** What a merged result was made of. */
export interface MergeInfo {
  shards: number;
  /** the shard result files, in shard order */
  files: string[];
  /** the common measured window on the wall clock (ms since the epoch) */
  windowStartEpochMs: number;
  windowEndEpochMs: number;
  /** the largest start lateness of any shard (ShardInfo.startLateMs) */
  maxStartLateMs: number;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  values: number[];
}

/** One matrix cell at one rate, over its repetitions. Latencies in microseconds. */
export interface CellSummary {
  system: string;
  cell: string;
  rate: string;
  repetitions: number;
  msgsPerSec: Spread;
  p50: Spread;
  p99: Spread;
  p999: Spread;
  max: Spread;
}
