/**
 * Scenario files (scenarios/<name>.yaml or .json): what to run, validated up front so a
 * typo fails in one line before any broker starts or any file is written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { POWER_LOSS_MODES, type FaultKind } from '../core/contract.ts';
import { killTarget } from './fault-target.ts';
import { ConfigError, UsageError } from '../core/errors.ts';
import { parseDurationMs } from '../core/units.ts';
import { durations, integer, oneOf } from '../core/options.ts';
import { scheduleLengthMs, type RateSchedule } from '../core/rate-profile.ts';
import { checkScheduleFits, describeSchedule, parseMsgsPerSec, scheduleOf } from './rate-schedule.ts';
import { MAX_MESSAGE_SIZE, MIN_MESSAGE_SIZE, MAX_PRODUCER_ID } from '../core/envelope.ts';
import type { SustainablePlan } from '../checks/sustainable.ts';
import { partitionsField } from './partitions.ts';
import { checkTopicsSpread, topicsField } from './topics.ts';
import { backlogPlan, checkBacklogRates, type BacklogPlan } from './backlog.ts';
import { payloadField, payloadMessageSize } from './payload.ts';
import type { PayloadPlan } from '../core/payload.ts';
import { DEFAULT_KEY_SPACE, KEY_DISTRIBUTIONS, MAX_KEY_SPACE, NO_KEYS, type KeyPlan } from '../core/keys.ts';

export const SCENARIO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scenarios');

/**
 * A rate: messages per second for the whole run, a fraction of the measured maximum, or
 * a schedule of steps or a ramp that the measured window follows, or the maximum
 * sustainable rate, searched in open loop (`sustainable`).
 */
export type Rate = { kind: 'max' } | { kind: 'fixed'; perSec: number } | { kind: 'fraction'; of: number } | { kind: 'schedule'; schedule: RateSchedule } | { kind: 'sustainable' };

export interface Scenario {
  name: string;
  file: string;
  description: string;
  /** one entry per measured run of each system; closed loop is [{kind:'max'}] */
  rates: Rate[];
  durationMs: number;
  warmupMs: number;
  drainTimeoutMs: number;
  /** statistics are reported per interval (soak) and drive the progress display */
  intervalMs: number;
  /** the search behind rate: sustainable */
  sustainable: SustainablePlan;
  producers: number;
  consumers: number;
  /** every message's size; with a payload, the largest message it makes (what size limits must hold) */
  messageSize: number;
  /** what the bytes after the envelope are (src/core/payload.ts); absent: the order message padded to messageSize */
  payload?: PayloadPlan;
  maxInFlight: number;
  batchSize: number;
  /** simulated handler work per message in consumers (busy wait), microseconds */
  workUs: number;
  /** which key each message carries (`keys`, `keySpace`) */
  keys: KeyPlan;
  /** ordering domains the messages are spread over (`partitions`, src/core/partitions.ts); 1 = none */
  partitions: number;
  /** streams, topics or lane sets producers and consumers are spread over (`topics`, src/core/topics.ts); 1 = the run's one */
  topics: number;
  systems: string[];
  /** each system's own section, raw; adapters validate them */
  systemOptions: Record<string, unknown>;
  /** configuration matrix: "<system>.<option>" -> values; every combination of a system's keys is a cell */
  matrix: Record<string, unknown[]>;
  /** every cell runs this many times, in interleaved order */
  repeat: number;
  /** kill -9 (or cut the power of) the broker this long into the measured phase, restart it after `downtimeMs` */
  fault?: FaultPlan;
  /** the exactly-once scenario: consumers apply messages to a state that is checked */
  exactlyOnce?: ExactlyOncePlan;
  /** build a backlog with the consumers paused, then measure its drain (src/scenario/backlog.ts) */
  backlog?: BacklogPlan;
}

export interface FaultPlan {
  /** ms after the measured phase starts */
  atMs: number;
  /** ms the broker stays down before the restart begins */
  downtimeMs: number;
  /** kill -9 (the default), or a power loss: kill -9 and the unsynced writes dropped */
  kind: FaultKind;
  /** ms the run waits, once its drain is over, for the restart to finish (fault.restartWait; the harness's default 30 s) */
  restartWaitMs?: number;
}

export type Guarantee = 'exactly-once' | 'at-least-once';
export const GUARANTEES: readonly Guarantee[] = ['exactly-once', 'at-least-once'];

/** How a consumer applies messages; the broken ones exist to prove the checks catch them. */
export type ApplyBehaviour = 'correct' | 'apply-twice' | 'drop';
export const APPLY_BEHAVIOURS: readonly ApplyBehaviour[] = ['correct', 'apply-twice', 'drop'];

export interface ExactlyOncePlan {
  /** each guarantee is a cell of every system; the cost ratio compares them */
  guarantees: Guarantee[];
  /** 1: producers -> consumer; 4: the Order -> Match -> Fill -> Ack pipeline */
  stages: number;
  /** a producer re-sends its latest batch this often, as after a lost ack (0 = never) */
  retryEveryMs: number;
  /** each consuming worker drops its connection between processing and acknowledging this often (0 = never) */
  crashEveryMs: number;
  consumer: ApplyBehaviour;
  /** the state: a balance per account, account = f(producer, sequence) */
  accounts: number;
}

const GENERAL_KEYS = [
  'name',
  'description',
  'rate',
  'duration',
  'warmup',
  'drainTimeout',
  'interval',
  'probe',
  'sustainable',
  'backlog',
  'producers',
  'consumers',
  'messageSize',
  'payload',
  'maxInFlight',
  'batchSize',
  'workUs',
  'keys',
  'keySpace',
  'partitions',
  'topics',
  'systems',
  'matrix',
  'repeat',
  'fault',
  'exactlyOnce',
] as const;

export function scenarioNames(): string[] {
  if (!fs.existsSync(SCENARIO_DIR)) return [];
  return fs
    .readdirSync(SCENARIO_DIR)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .map((f) => f.replace(/\.(ya?ml|json)$/, ''))
    .sort();
}

/** Finds a scenario by name (scenarios/<name>.*) or by path. */
export function resolveScenarioFile(nameOrPath: string): string {
  if (/[\\/]/.test(nameOrPath) || /\.(ya?ml|json)$/.test(nameOrPath)) {
    if (fs.existsSync(nameOrPath)) return path.resolve(nameOrPath);
    throw new UsageError(`--scenario ${nameOrPath}: no such file`);
  }
  for (const ext of ['.yaml', '.yml', '.json']) {
    const f = path.join(SCENARIO_DIR, nameOrPath + ext);
    if (fs.existsSync(f)) return f;
  }
  throw new UsageError(`unknown scenario "${nameOrPath}"; valid: ${scenarioNames().join(', ')}`);
}

export { parseDurationMs };

export function parseRate(v: unknown): Rate | undefined {
  if (v === 'max') return { kind: 'max' };
  if (v === 'sustainable') return { kind: 'sustainable' };
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return { kind: 'fixed', perSec: v };
  if (typeof v === 'string') {
    const pct = /^(\d+(?:\.\d+)?)%$/.exec(v.trim());
    if (pct) {
      const of = Number(pct[1]) / 100;
      return of > 0 && of <= 1 ? { kind: 'fraction', of } : undefined;
    }
    const perSec = parseMsgsPerSec(v);
    return perSec === undefined ? undefined : { kind: 'fixed', perSec };
  }
  return undefined;
}

export function describeRate(r: Rate): string {
  if (r.kind === 'max') return 'max';
  if (r.kind === 'sustainable') return 'sustainable';
  if (r.kind === 'fraction') return `${Math.round(r.of * 1000) / 10}% of max`;
  if (r.kind === 'schedule') return describeSchedule(r.schedule);
  return `${r.perSec} msg/s`;
}

const RATE_EXPECTED = '"max", a positive number of msg/s (e.g. 50000 or "50k"), a percentage of the measured max ("50%"), "sustainable", a list of these, or a schedule {steps: [...]} or {ramp: {...}}';
const DURATION_EXPECTED = 'a duration such as "500ms", "30s", "2m", "1h" or a number of seconds';

function nonNegative(file: string, field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(file, field, 'a number >= 0', v);
  return v;
}

const FAULT_KEYS = ['type', 'at', 'downtime', 'mode', 'kill', 'restartWait'];
const FAULT_TYPES = ['kill', 'power-loss'] as const;

function faultPlan(file: string, v: unknown): FaultPlan {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(file, 'fault', 'a mapping with "at" and "downtime" durations', v);
  const f = v as Record<string, unknown>;
  for (const key of Object.keys(f)) if (!FAULT_KEYS.includes(key)) throw new ConfigError(file, `fault.${key}`, `one of the fields ${FAULT_KEYS.join(', ')}`, key);
  const type = f.type === undefined ? 'kill' : oneOf(file, 'fault.type', f.type, FAULT_TYPES);
  if (type === 'kill' && f.mode !== undefined) throw new ConfigError(file, 'fault.mode', 'no mode with fault.type kill (mode belongs to type power-loss)', f.mode);
  const target = f.kill === undefined ? undefined : killTarget(file, f.kill);
  const aim = target ? { target } : {};
  const kind: FaultKind = type === 'kill' ? { type, ...aim } : { type, mode: f.mode === undefined ? 'lose-unsynced' : oneOf(file, 'fault.mode', f.mode, POWER_LOSS_MODES), ...aim };
  return {
    atMs: duration(file, 'fault.at', f.at, 0),
    downtimeMs: duration(file, 'fault.downtime', f.downtime ?? 0, 0),
    kind,
    ...(f.restartWait === undefined ? {} : { restartWaitMs: duration(file, 'fault.restartWait', f.restartWait, 1000) }),
  };
}

const EXACTLY_ONCE_KEYS = ['guarantee', 'stages', 'retryEvery', 'crashEvery', 'consumer', 'accounts'];

function exactlyOncePlan(file: string, v: unknown): ExactlyOncePlan {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(file, 'exactlyOnce', `a mapping with the fields ${EXACTLY_ONCE_KEYS.join(', ')}`, v);
  const f = v as Record<string, unknown>;
  for (const key of Object.keys(f)) if (!EXACTLY_ONCE_KEYS.includes(key)) throw new ConfigError(file, `exactlyOnce.${key}`, `one of the fields ${EXACTLY_ONCE_KEYS.join(', ')}`, key);
  const raw = f.guarantee ?? [...GUARANTEES];
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw new ConfigError(file, 'exactlyOnce.guarantee', `one or a list of ${GUARANTEES.join(', ')}`, raw);
  const guarantees = list.map((g, i) => oneOf(file, Array.isArray(raw) ? `exactlyOnce.guarantee[${i}]` : 'exactlyOnce.guarantee', g, GUARANTEES, 'list'));
  return {
    guarantees: [...new Set(guarantees)],
    stages: integer(file, 'exactlyOnce.stages', f.stages ?? 1, { min: 1, max: 8 }),
    retryEveryMs: duration(file, 'exactlyOnce.retryEvery', f.retryEvery ?? 0, 0),
    crashEveryMs: duration(file, 'exactlyOnce.crashEvery', f.crashEvery ?? 0, 0),
    consumer: oneOf(file, 'exactlyOnce.consumer', f.consumer ?? 'correct', APPLY_BEHAVIOURS, 'list'),
    accounts: integer(file, 'exactlyOnce.accounts', f.accounts ?? 1000, { min: 1, max: 1_000_000 }),
  };
}

/** `keys` and `keySpace`: a key space without keys is a mistake, not a no-op. */
export function keyPlan(file: string, keys: unknown, keySpace: unknown, names = { keys: 'keys', keySpace: 'keySpace' }): KeyPlan {
  const distribution = keys === undefined ? 'none' : oneOf(file, names.keys, keys, KEY_DISTRIBUTIONS, 'list');
  if (distribution === 'none') {
    if (keySpace !== undefined) throw new ConfigError(file, names.keySpace, `nothing unless ${names.keys} is round-robin or random`, keySpace);
    return NO_KEYS;
  }
  return { distribution, space: integer(file, names.keySpace, keySpace ?? DEFAULT_KEY_SPACE, { min: 1, max: MAX_KEY_SPACE }) };
}

function matrix(file: string, v: unknown, knownSystems: string[]): Record<string, unknown[]> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(file, 'matrix', 'a mapping of "<system>.<option>" to a list of values', v);
  const out: Record<string, unknown[]> = {};
  for (const [key, values] of Object.entries(v as Record<string, unknown>)) {
    const system = key.split('.')[0]!;
    if (!/^[\w-]+\.[\w.-]+$/.test(key) || !knownSystems.includes(system)) {
      throw new ConfigError(file, `matrix.${key}`, `a key "<system>.<option>" with system one of ${knownSystems.join(', ')}`, key);
    }
    if (!Array.isArray(values) || values.length === 0) throw new ConfigError(file, `matrix.${key}`, 'a non-empty list of values', values);
    out[key] = values;
  }
  return out;
}

const SUSTAINABLE_KEYS = ['from', 'max', 'step', 'warmup', 'maxSteps', 'precision', 'slo'];

function positiveRate(file: string, field: string, v: unknown): number {
  const r = parseRate(v);
  if (r?.kind !== 'fixed') throw new ConfigError(file, field, 'a positive number of msg/s (e.g. 50000 or "50k")', v);
  return r.perSec;
}

/** rate: sustainable's search: where it starts, its bounds, and what a step is. */
function sustainablePlan(file: string, v: unknown): SustainablePlan {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(file, 'sustainable', `a mapping of ${SUSTAINABLE_KEYS.join(', ')}`, v);
  const f = v as Record<string, unknown>;
  for (const key of Object.keys(f)) if (!SUSTAINABLE_KEYS.includes(key)) throw new ConfigError(file, `sustainable.${key}`, `one of ${SUSTAINABLE_KEYS.join(', ')}`, key);
  const fromPerSec = positiveRate(file, 'sustainable.from', f.from ?? 1000);
  const maxPerSec = positiveRate(file, 'sustainable.max', f.max ?? 10_000_000);
  if (maxPerSec < fromPerSec) throw new ConfigError(file, 'sustainable.max', `a rate at least sustainable.from (${fromPerSec})`, f.max);
  const precisionPct = integer(file, 'sustainable.precision', typeof f.precision === 'string' ? Number(f.precision.replace(/%$/, '')) : (f.precision ?? 5), { min: 1, max: 50 });
  let sloP99Us: number | undefined;
  if (f.slo !== undefined) {
    const slo = f.slo as Record<string, unknown> | null;
    if (typeof slo !== 'object' || slo === null || Array.isArray(slo) || Object.keys(slo).some((k) => k !== 'p99') || slo.p99 === undefined) throw new ConfigError(file, 'sustainable.slo', 'a mapping {p99: <duration>}, e.g. {p99: 10ms}', f.slo);
    sloP99Us = duration(file, 'sustainable.slo.p99', slo.p99, 0) * 1000;
  }
  return {
    fromPerSec,
    maxPerSec,
    stepMs: duration(file, 'sustainable.step', f.step ?? '5s', 500),
    stepWarmupMs: duration(file, 'sustainable.warmup', f.warmup ?? '1s', 0),
    maxSteps: integer(file, 'sustainable.maxSteps', f.maxSteps ?? 16, { min: 2, max: 40 }),
    precision: precisionPct / 100,
    ...(sloP99Us !== undefined ? { sloP99Us } : {}),
  };
}

function duration(file: string, field: string, v: unknown, minMs: number): number {
  return durations(file, field, v, { minMs, expected: `${DURATION_EXPECTED}, at least ${minMs} ms` });
}

function rates(file: string, v: unknown): Rate[] {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return [{ kind: 'schedule', schedule: scheduleOf(file, v) }];
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw new ConfigError(file, 'rate', RATE_EXPECTED, v);
  return list.map((item, i) => {
    const r = parseRate(item);
    if (!r) throw new ConfigError(file, Array.isArray(v) ? `rate[${i}]` : 'rate', RATE_EXPECTED, item);
    return r;
  });
}

/** Validates a parsed scenario document. `knownSystems` are the folders under src/adapters. */
export function validateScenario(doc: unknown, file: string, knownSystems: string[]): Scenario {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConfigError(file, '(top level)', 'a mapping of fields', doc);
  const raw = doc as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!(GENERAL_KEYS as readonly string[]).includes(key) && !knownSystems.includes(key)) {
      throw new ConfigError(file, key, `one of the fields ${[...GENERAL_KEYS, ...knownSystems].join(', ')}`, key);
    }
  }
  const name = raw.name ?? path.basename(file).replace(/\.(ya?ml|json)$/, '');
  if (typeof name !== 'string' || !/^[\w.-]+$/.test(name)) throw new ConfigError(file, 'name', 'letters, digits, "-", "_" or "."', name);
  const description = raw.description ?? '';
  if (typeof description !== 'string') throw new ConfigError(file, 'description', 'text', description);

  const systemsRaw = raw.systems ?? knownSystems;
  if (!Array.isArray(systemsRaw) || systemsRaw.length === 0) throw new ConfigError(file, 'systems', `a non-empty list of ${knownSystems.join(', ')}`, systemsRaw);
  const systems = systemsRaw.map((s, i) => {
    if (typeof s !== 'string') throw new ConfigError(file, `systems[${i}]`, `one of ${knownSystems.join(', ')}`, s);
    return s;
  });

  const rateList = rates(file, raw.rate ?? 'max');
  const schedule = scheduleOfRates(rateList);

  const systemOptions: Record<string, unknown> = {};
  for (const s of knownSystems) if (raw[s] !== undefined) systemOptions[s] = raw[s];
  const payload = payloadField(file, raw);

  return {
    name,
    file,
    description,
    rates: rateList,
    durationMs: schedule && raw.duration === undefined ? scheduleLengthMs(schedule) : duration(file, 'duration', raw.duration ?? '30s', 100),
    warmupMs: duration(file, 'warmup', raw.warmup ?? '5s', 0),
    drainTimeoutMs: duration(file, 'drainTimeout', raw.drainTimeout ?? '30s', 100),
    intervalMs: duration(file, 'interval', raw.interval ?? '1s', 100),
    ...refuseProbe(file, raw.probe),
    sustainable: sustainablePlan(file, raw.sustainable ?? {}),
    producers: integer(file, 'producers', raw.producers ?? 1, { min: 1, max: Math.min(64, MAX_PRODUCER_ID + 1) }),
    consumers: integer(file, 'consumers', raw.consumers ?? 1, { min: 1, max: 64 }),
    messageSize: payload ? payloadMessageSize(payload) : integer(file, 'messageSize', raw.messageSize ?? 512, { min: MIN_MESSAGE_SIZE, max: MAX_MESSAGE_SIZE }),
    ...(payload ? { payload } : {}),
    maxInFlight: integer(file, 'maxInFlight', raw.maxInFlight ?? 1000, { min: 1, max: 1_000_000 }),
    batchSize: integer(file, 'batchSize', raw.batchSize ?? 128, { min: 1, max: 65_536 }),
    workUs: nonNegative(file, 'workUs', raw.workUs ?? 0),
    keys: keyPlan(file, raw.keys, raw.keySpace),
    partitions: partitionsField(file, raw.partitions),
    topics: topicsField(file, raw.topics),
    systems,
    systemOptions,
    matrix: matrix(file, raw.matrix ?? {}, knownSystems),
    repeat: integer(file, 'repeat', raw.repeat ?? 1, { min: 1, max: 100 }),
    ...(raw.fault !== undefined ? { fault: faultPlan(file, raw.fault) } : {}),
    ...(raw.exactlyOnce !== undefined ? { exactlyOnce: exactlyOncePlan(file, raw.exactlyOnce) } : {}),
    ...(raw.backlog !== undefined ? { backlog: backlogOf(file, raw) } : {}),
  };
}

/** `probe` was the closed-loop run behind "N%" rates; the sustainable search took its place. */
function refuseProbe(file: string, probe: unknown): Record<string, never> {
  if (probe !== undefined) throw new ConfigError(file, 'probe', 'nothing: "N%" rates are fractions of the maximum sustainable rate, searched in open loop (bound the search under sustainable:)', probe);
  return {};
}

/** backlog: its window is the build and the drain, so a duration would be a second, conflicting length */
function backlogOf(file: string, raw: Record<string, unknown>): BacklogPlan {
  if (raw.duration !== undefined) throw new ConfigError(file, 'duration', 'no duration with backlog (the measured window is the build and the drain, bounded by backlog.maxBuild + backlog.maxDrain)', raw.duration);
  return backlogPlan(file, raw.backlog);
}

/** After CLI overrides: every system to run must exist (checked late so --systems can narrow a list). */
export function checkSystems(s: Scenario, knownSystems: string[]): void {
  // The idempotency record lives in the one consumer of a stage (its "database"); two
  // consumers would each need to see the other's, which this scenario does not model.
  if (s.exactlyOnce && s.consumers !== 1) throw new ConfigError(s.file, 'consumers', '1 when the scenario has exactlyOnce (one consuming worker per stage)', s.consumers);
  if (s.backlog) checkBacklogRates(s.file, s.rates);
  checkTopicsSpread(s.file, s);
  if (s.backlog && s.payload && s.payload.size?.kind !== 'fixed' && !('messages' in s.backlog.target)) {
    throw new ConfigError(s.file, 'backlog.size', 'a count of messages (backlog.messages, --backlog 100k) with a payload of varying size (a size in bytes is counted in messages of one size)', s.backlog.target);
  }
  if (s.backlog && (s.fault || s.exactlyOnce)) throw new ConfigError(s.file, 'backlog', `no backlog with ${s.fault ? 'fault' : 'exactlyOnce'} (one experiment per run)`, s.backlog.target);
  const schedule = scheduleOfRates(s.rates);
  if (schedule) checkScheduleFits(s.file, schedule, s.durationMs, s.intervalMs);
  s.systems.forEach((system, i) => {
    if (!knownSystems.includes(system)) throw new ConfigError(s.file, `systems[${i}]`, `one of ${knownSystems.join(', ')}`, system);
  });
}

/** the scenario's rate schedule, if its rate is one (a schedule is always the only rate) */
export function scheduleOfRates(rates: Rate[]): RateSchedule | undefined {
  const r = rates[0];
  return r?.kind === 'schedule' ? r.schedule : undefined;
}

export function loadScenario(nameOrPath: string, knownSystems: string[]): Scenario {
  const file = resolveScenarioFile(nameOrPath);
  const text = fs.readFileSync(file, 'utf8');
  let doc: unknown;
  try {
    doc = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new ConfigError(file, '(syntax)', file.endsWith('.json') ? 'valid JSON' : 'valid YAML', (err as Error).message.split('\n')[0]);
  }
  return validateScenario(doc, path.relative(process.cwd(), file) || file, knownSystems);
}
