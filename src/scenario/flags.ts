/**
 * The bench CLI's flags, and how they override a scenario. Every bad flag or value is a
 * UsageError naming it and what is valid, before anything runs or is written.
 */
import { flagLines, readArgv, type FlagSpec } from '../core/argv.ts';
import { UsageError } from '../core/errors.ts';
import { MAX_MESSAGE_SIZE, MIN_MESSAGE_SIZE } from '../core/envelope.ts';
import { keyPlan, parseDurationMs, parseRate, type Scenario } from './scenario.ts';
import { scheduleFlag } from './rate-schedule.ts';
import { MAX_PARTITIONS } from '../core/partitions.ts';
import { MAX_TOPICS } from '../core/topics.ts';
import { backlogFlag, type BacklogPlan } from './backlog.ts';
import { PAYLOAD_FLAGS, PAYLOAD_KEYS, payloadFromFlags, payloadMessageSize } from './payload.ts';
import { processesFlag, shardFlag, startAtFlag } from './shard.ts';
import { scheduleLengthMs } from '../core/rate-profile.ts';
import { KEY_DISTRIBUTIONS, MAX_KEY_SPACE, NO_KEYS, type KeyDistribution, type KeyPlan } from '../core/keys.ts';

export interface BenchFlags {
  scenario?: string;
  systems?: string[];
  duration?: number;
  warmup?: number;
  drainTimeout?: number;
  interval?: number;
  rate?: ReturnType<typeof parseRate>;
  producers?: number;
  consumers?: number;
  size?: number;
  batch?: number;
  inFlight?: number;
  workUs?: number;
  keys?: KeyDistribution;
  keySpace?: number;
  partitions?: number;
  topics?: number;
  backlog?: BacklogPlan;
  /** --payload-* values as given, by payload field; validated with the scenario's payload in applyFlags */
  payload: Partial<Record<(typeof PAYLOAD_KEYS)[number], string>>;
  out: string;
  json: boolean;
  help: boolean;
  brokers: 'native' | 'compose' | 'external';
  urls: Record<string, string>;
  /** system option overrides: --set nats.storage=memory */
  sets: Array<{ system: string; key: string; value: unknown }>;
  /** --shard i/N: this process runs shard `index` of `count` (src/scenario/shard.ts) */
  shard?: { index: number; count: number };
  /** --start-at: the shards' common start, as given and in ms since the epoch */
  startAt?: { text: string; epochMs: number };
  /** --processes N: run N local shards and merge them */
  processes?: number;
}

/** A bench flag: how it reads on the command line, and what its value does to the flags. */
interface BenchFlag extends FlagSpec {
  /** checks the value (boolean flags get '') and records it; a bad value is a UsageError */
  apply(flags: BenchFlags, v: string, knownSystems: string[]): void;
}

export const FLAGS: BenchFlag[] = [
  { name: 'scenario', value: '<name|file>', help: 'scenario to run (required)', apply: (f, v) => (f.scenario = v) },
  { name: 'systems', value: '<a,b,...>', help: 'systems to run, overriding the scenario', apply: (f, v, known) => (f.systems = systemList(v, known)) },
  { name: 'duration', value: '<time>', help: 'measured phase, e.g. 30s', apply: (f, v) => (f.duration = durationFlag('duration', v, 100)) },
  { name: 'warmup', value: '<time>', help: 'warm-up phase, excluded from results, e.g. 5s', apply: (f, v) => (f.warmup = v === '0' ? 0 : durationFlag('warmup', v, 0)) },
  { name: 'rate', value: '<n|max|N%|sustainable|steps:…|ramp:…>', help: 'msg/s for the whole run, max (closed loop), a % of the measured max, sustainable (the highest rate kept up with, searched in open loop), or a schedule: steps:10k/30s,50k/30s or ramp:10k..200k/60s', apply: (f, v) => (f.rate = rateFlag(v)) },
  { name: 'producers', value: '<n>', help: 'producer worker threads', apply: (f, v) => (f.producers = positiveInt('producers', v, 64)) },
  { name: 'consumers', value: '<n>', help: 'consumer worker threads', apply: (f, v) => (f.consumers = positiveInt('consumers', v, 64)) },
  { name: 'size', value: '<bytes>', help: `message size, ${MIN_MESSAGE_SIZE}..${MAX_MESSAGE_SIZE} (default 512)`, apply: (f, v) => (f.size = sizeFlag(v)) },
  { name: 'batch', value: '<n>', help: 'messages per producer batch', apply: (f, v) => (f.batch = positiveInt('batch', v, 65_536)) },
  { name: 'in-flight', value: '<n>', help: 'unacknowledged messages allowed per producer', apply: (f, v) => (f.inFlight = positiveInt('in-flight', v, 1_000_000)) },
  { name: 'drain-timeout', value: '<time>', help: 'how long to wait for stragglers after the measured phase', apply: (f, v) => (f.drainTimeout = durationFlag('drain-timeout', v, 100)) },
  { name: 'interval', value: '<time>', help: 'statistics interval (progress, soak time series)', apply: (f, v) => (f.interval = durationFlag('interval', v, 100)) },
  { name: 'work-us', value: '<µs>', help: 'simulated handler work per message in consumers (busy wait)', apply: (f, v) => (f.workUs = workUsFlag(v)) },
  { name: 'keys', value: '<none|round-robin|random>', help: 'the key each message carries (routes it to a partition; pulsar keys, nats subject tokens)', apply: (f, v) => (f.keys = keysFlag(v)) },
  { name: 'key-space', value: '<n>', help: 'distinct keys with --keys round-robin|random (default 1000)', apply: (f, v) => (f.keySpace = positiveInt('key-space', v, MAX_KEY_SPACE)) },
  { name: 'partitions', value: '<n>', help: 'ordering domains the messages are spread over: Pulsar partitions, NATS subjects with a consumer each, ring lane sets (default 1)', apply: (f, v) => (f.partitions = positiveInt('partitions', v, MAX_PARTITIONS)) },
  { name: 'topics', value: '<n>', help: 'streams the run is spread over, producer p writing and consumer c reading topic p (c) mod n: NATS streams, Pulsar topics, ring lane sets (default 1)', apply: (f, v) => (f.topics = positiveInt('topics', v, MAX_TOPICS)) },
  { name: 'backlog', value: '<size|count>', help: 'build a backlog with consumers paused, then measure its drain: a size (1GB, 512MiB) or messages (100k)', apply: (f, v) => (f.backlog = backlogFlag(v)) },
  ...PAYLOAD_KEYS.map((key): BenchFlag => ({ name: PAYLOAD_FLAGS[key].flag, value: PAYLOAD_FLAGS[key].value, help: PAYLOAD_FLAGS[key].help, apply: (f, v) => (f.payload[key] = v) })),
  { name: 'brokers', value: '<native|compose|external>', help: 'who runs the brokers (default native: busbench starts them)', apply: (f, v) => (f.brokers = brokersFlag(v)) },
  { name: 'url', value: '<system=url>', repeatable: true, help: 'broker URL for --brokers external, e.g. nats=nats://127.0.0.1:4222 (repeatable)', apply: urlFlag },
  { name: 'set', value: '<system.key=value>', repeatable: true, help: 'override a system option, e.g. nats.storage=memory (repeatable)', apply: setFlag },
  { name: 'shard', value: '<i/N>', help: 'run shard i of N (0-based) of the scenario: 1/N of its producers, consumers and rate; needs --start-at and --brokers external', apply: (f, v) => (f.shard = shardFlag(v)) },
  { name: 'start-at', value: '<ISO time>', help: 'the common start of every shard on the wall clock, e.g. 2026-12-02T07:30:00Z (at most 1 h ahead)', apply: (f, v) => (f.startAt = { text: v, epochMs: startAtFlag(v) }) },
  { name: 'processes', value: '<n>', help: 'run n local shards (child processes, one start time) and merge their results; against --brokers external, or one native broker (nats) the shards share', apply: (f, v) => (f.processes = processesFlag(v)) },
  { name: 'out', value: '<dir>', help: 'where result files go (default results/)', apply: (f, v) => (f.out = outFlag(v)) },
  { name: 'json', help: 'print the result document to stdout', apply: (f) => (f.json = true) },
  { name: 'help', help: 'show this help', apply: (f) => (f.help = true) },
];

function positiveInt(flag: string, v: string, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`--${flag} ${v}: expected an integer from 1 to ${max}`);
  return n;
}

function durationFlag(flag: string, v: string, minMs: number): number {
  const ms = parseDurationMs(v);
  if (ms === undefined || ms < minMs || !/[a-z]$/.test(v.trim())) {
    throw new UsageError(`--${flag} ${v}: expected a duration with a unit, e.g. 500ms, 30s, 2m (at least ${minMs} ms)`);
  }
  return ms;
}

function systemList(v: string, knownSystems: string[]): string[] {
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) throw new UsageError(`--systems "${v}": expected a comma-separated list of ${knownSystems.join(', ')}`);
  for (const s of list) if (!knownSystems.includes(s)) throw new UsageError(`--systems: unknown system "${s}"; valid: ${knownSystems.join(', ')}`);
  return list;
}

function rateFlag(v: string): NonNullable<BenchFlags['rate']> {
  const schedule = scheduleFlag(v);
  if (schedule) return { kind: 'schedule', schedule };
  const r = parseRate(/^\d+(\.\d+)?$/.test(v) ? Number(v) : v);
  if (!r) throw new UsageError(`--rate ${v}: expected a positive number of msg/s (e.g. 50000 or 50k), max, a percentage of the measured max (e.g. 50%), sustainable, steps:10k/30s,50k/30s or ramp:10k..200k/60s`);
  return r;
}

function sizeFlag(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < MIN_MESSAGE_SIZE || n > MAX_MESSAGE_SIZE) throw new UsageError(`--size ${v}: expected an integer from ${MIN_MESSAGE_SIZE} to ${MAX_MESSAGE_SIZE} bytes`);
  return n;
}

function workUsFlag(v: string): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || n > 1_000_000) throw new UsageError(`--work-us ${v}: expected microseconds from 0 to 1000000`);
  return n;
}

function keysFlag(v: string): KeyDistribution {
  const k = KEY_DISTRIBUTIONS.find((d) => d === v);
  if (!k) throw new UsageError(`--keys ${v}: expected one of ${KEY_DISTRIBUTIONS.join(', ')}`);
  return k;
}

/** --keys replaces the scenario's distribution, --key-space its key space; the other stays the scenario's. */
function keysOf(s: Scenario, f: BenchFlags): KeyPlan {
  if (f.keys === undefined && f.keySpace === undefined) return s.keys;
  const distribution = f.keys ?? s.keys.distribution;
  if (distribution === 'none') {
    if (f.keySpace !== undefined) throw new UsageError(`--key-space ${f.keySpace}: needs --keys round-robin or random${f.keys ? '' : ' (the scenario has no keys)'}`);
    return NO_KEYS;
  }
  const space = f.keySpace ?? (s.keys.space || undefined);
  return keyPlan('--keys', distribution, space, { keys: '--keys', keySpace: '--key-space' });
}

function brokersFlag(v: string): BenchFlags['brokers'] {
  if (v !== 'native' && v !== 'compose' && v !== 'external') throw new UsageError(`--brokers ${v}: expected native, compose or external`);
  return v;
}

function urlFlag(flags: BenchFlags, v: string, knownSystems: string[]): void {
  const m = /^([\w-]+)=(.+)$/.exec(v);
  if (!m || !knownSystems.includes(m[1]!)) throw new UsageError(`--url ${v}: expected <system>=<url> with system one of ${knownSystems.join(', ')}`);
  flags.urls[m[1]!] = m[2]!;
}

function setFlag(flags: BenchFlags, v: string, knownSystems: string[]): void {
  const m = /^([\w-]+)\.([\w.-]+)=(.*)$/.exec(v);
  if (!m || !knownSystems.includes(m[1]!)) throw new UsageError(`--set ${v}: expected <system>.<option>=<value> with system one of ${knownSystems.join(', ')}`);
  flags.sets.push({ system: m[1]!, key: m[2]!, value: scalar(m[3]!) });
}

function outFlag(v: string): string {
  if (!v) throw new UsageError('--out needs a directory');
  return v;
}

/** A --set value: numbers and booleans as such, anything else as text. */
function scalar(v: string): unknown {
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return v;
}

export function parseFlags(argv: string[], knownSystems: string[]): BenchFlags {
  const flags: BenchFlags = { out: 'results', json: false, help: false, brokers: 'native', urls: {}, sets: [], payload: {} };
  // Bench takes flags only; an empty value reaches its flag, whose message names what it needs.
  for (const item of readArgv(argv, FLAGS, { positional: false, emptyValues: true })) {
    if ('flag' in item) item.flag.apply(flags, item.value ?? '', knownSystems);
  }
  if (flags.shard && !flags.startAt) throw new UsageError(`--shard ${flags.shard.index}/${flags.shard.count}: needs --start-at <ISO time>, the start every shard shares`);
  if (flags.startAt && !flags.shard && !flags.processes) throw new UsageError(`--start-at ${flags.startAt.text}: only with --shard or --processes`);
  if (flags.shard && flags.processes) throw new UsageError('--processes runs its own shards: leave out --shard');
  return flags;
}

/** CLI flags win over the scenario file. */
export function applyFlags(s: Scenario, f: BenchFlags): Scenario {
  if (f.duration !== undefined && (f.backlog ?? s.backlog)) throw new UsageError(`--duration: not with a backlog (the measured window is the build and the drain, bounded by backlog.maxBuild + backlog.maxDrain)`);
  const systemOptions: Record<string, unknown> = { ...s.systemOptions };
  for (const { system, key, value } of f.sets) {
    const current = systemOptions[system];
    const section = typeof current === 'object' && current !== null && !Array.isArray(current) ? { ...(current as Record<string, unknown>) } : {};
    section[key] = value;
    systemOptions[system] = section;
  }
  const payload = payloadFromFlags(s.payload, f.payload, f.size);
  return {
    ...s,
    systems: f.systems ?? s.systems,
    // a schedule from the flag sets the window's length, unless --duration says otherwise
    durationMs: f.duration ?? (f.rate?.kind === 'schedule' ? scheduleLengthMs(f.rate.schedule) : s.durationMs),
    warmupMs: f.warmup ?? s.warmupMs,
    drainTimeoutMs: f.drainTimeout ?? s.drainTimeoutMs,
    intervalMs: f.interval ?? s.intervalMs,
    rates: f.rate ? [f.rate] : s.rates,
    producers: f.producers ?? s.producers,
    consumers: f.consumers ?? s.consumers,
    messageSize: payload ? (payload === s.payload ? s.messageSize : payloadMessageSize(payload)) : (f.size ?? s.messageSize),
    ...(payload ? { payload } : {}),
    batchSize: f.batch ?? s.batchSize,
    maxInFlight: f.inFlight ?? s.maxInFlight,
    workUs: f.workUs ?? s.workUs,
    keys: keysOf(s, f),
    partitions: f.partitions ?? s.partitions,
    topics: f.topics ?? s.topics,
    systemOptions,
    ...(f.backlog || s.backlog ? { backlog: f.backlog ?? s.backlog } : {}),
  };
}

export function helpText(scenarios: Array<{ name: string; description: string }>, systems: string[]): string {
  const lines = [
    'usage: npm run bench -- --scenario <name> [flags]',
    '',
    'scenarios (scenarios/*.yaml):',
    ...scenarios.map((s) => `  ${s.name.padEnd(14)} ${s.description}`),
    '',
    `systems: ${systems.join(', ')}`,
    '',
    'flags:',
    ...flagLines(FLAGS),
    '',
    'Exit codes: 0 ok, 1 delivery errors or a failed system, 2 bad input, 130 interrupted.',
  ];
  return lines.join('\n');
}

