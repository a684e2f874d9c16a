/**
 * The bench CLI's flags, and how they override a scenario. Every bad flag or value is a
 * UsageError naming it and what is valid, before anything runs or is written.
 */
import { UsageError } from '../core/errors.ts';
import { MAX_MESSAGE_SIZE, MIN_MESSAGE_SIZE } from '../core/envelope.ts';
import { parseDurationMs, parseRate, type Scenario } from './scenario.ts';

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
  out: string;
  json: boolean;
  help: boolean;
  brokers: 'native' | 'compose' | 'external';
  urls: Record<string, string>;
  /** system option overrides: --set nats.storage=memory */
  sets: Array<{ system: string; key: string; value: unknown }>;
}

interface FlagSpec {
  name: string;
  value?: string;
  help: string;
}

export const FLAGS: FlagSpec[] = [
  { name: 'scenario', value: '<name|file>', help: 'scenario to run (required)' },
  { name: 'systems', value: '<a,b,...>', help: 'systems to run, overriding the scenario' },
  { name: 'duration', value: '<time>', help: 'measured phase, e.g. 30s' },
  { name: 'warmup', value: '<time>', help: 'warm-up phase, excluded from results, e.g. 5s' },
  { name: 'rate', value: '<n|max|N%>', help: 'msg/s for the whole run, max (closed loop), or a % of the measured max' },
  { name: 'producers', value: '<n>', help: 'producer worker threads' },
  { name: 'consumers', value: '<n>', help: 'consumer worker threads' },
  { name: 'size', value: '<bytes>', help: `message size, ${MIN_MESSAGE_SIZE}..${MAX_MESSAGE_SIZE} (default 512)` },
  { name: 'batch', value: '<n>', help: 'messages per producer batch' },
  { name: 'in-flight', value: '<n>', help: 'unacknowledged messages allowed per producer' },
  { name: 'drain-timeout', value: '<time>', help: 'how long to wait for stragglers after the measured phase' },
  { name: 'interval', value: '<time>', help: 'statistics interval (progress, soak time series)' },
  { name: 'work-us', value: '<µs>', help: 'simulated handler work per message in consumers (busy wait)' },
  { name: 'brokers', value: '<native|compose|external>', help: 'who runs the brokers (default native: busbench starts them)' },
  { name: 'url', value: '<system=url>', help: 'broker URL for --brokers external, e.g. nats=nats://127.0.0.1:4222 (repeatable)' },
  { name: 'set', value: '<system.key=value>', help: 'override a system option, e.g. nats.storage=memory (repeatable)' },
  { name: 'out', value: '<dir>', help: 'where result files go (default results/)' },
  { name: 'json', help: 'print the result document to stdout' },
  { name: 'help', help: 'show this help' },
];

function valid(): string {
  return FLAGS.map((f) => `--${f.name}`).join(' ');
}

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

/** A --set value: numbers and booleans as such, anything else as text. */
function scalar(v: string): unknown {
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return v;
}

export function parseFlags(argv: string[], knownSystems: string[]): BenchFlags {
  const flags: BenchFlags = { out: 'results', json: false, help: false, brokers: 'native', urls: {}, sets: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"; flags are: ${valid()}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq > 0 ? eq : undefined);
    const spec = FLAGS.find((f) => f.name === name);
    if (!spec) throw new UsageError(`unknown flag --${name}; valid flags: ${valid()}`);
    let value: string | undefined;
    if (spec.value) {
      value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value ${spec.value}`);
    } else if (eq > 0) throw new UsageError(`--${name} takes no value`);
    const v = value ?? '';
    switch (name) {
      case 'scenario':
        flags.scenario = v;
        break;
      case 'systems': {
        const list = v.split(',').map((s) => s.trim()).filter(Boolean);
        if (list.length === 0) throw new UsageError(`--systems "${v}": expected a comma-separated list of ${knownSystems.join(', ')}`);
        for (const s of list) if (!knownSystems.includes(s)) throw new UsageError(`--systems: unknown system "${s}"; valid: ${knownSystems.join(', ')}`);
        flags.systems = list;
        break;
      }
      case 'duration':
        flags.duration = durationFlag(name, v, 100);
        break;
      case 'warmup':
        flags.warmup = v === '0' ? 0 : durationFlag(name, v, 0);
        break;
      case 'drain-timeout':
        flags.drainTimeout = durationFlag(name, v, 100);
        break;
      case 'interval':
        flags.interval = durationFlag(name, v, 100);
        break;
      case 'rate': {
        const r = parseRate(/^\d+(\.\d+)?$/.test(v) ? Number(v) : v);
        if (!r) throw new UsageError(`--rate ${v}: expected a positive number of msg/s (e.g. 50000 or 50k), max, or a percentage of the measured max (e.g. 50%)`);
        flags.rate = r;
        break;
      }
      case 'producers':
        flags.producers = positiveInt(name, v, 64);
        break;
      case 'consumers':
        flags.consumers = positiveInt(name, v, 64);
        break;
      case 'size': {
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < MIN_MESSAGE_SIZE || n > MAX_MESSAGE_SIZE) throw new UsageError(`--size ${v}: expected an integer from ${MIN_MESSAGE_SIZE} to ${MAX_MESSAGE_SIZE} bytes`);
        flags.size = n;
        break;
      }
      case 'batch':
        flags.batch = positiveInt(name, v, 65_536);
        break;
      case 'in-flight':
        flags.inFlight = positiveInt(name, v, 1_000_000);
        break;
      case 'work-us': {
        const n = Number(v);
        if (!/^\d+(\.\d+)?$/.test(v) || n > 1_000_000) throw new UsageError(`--work-us ${v}: expected microseconds from 0 to 1000000`);
        flags.workUs = n;
        break;
      }
      case 'brokers':
        if (v !== 'native' && v !== 'compose' && v !== 'external') throw new UsageError(`--brokers ${v}: expected native, compose or external`);
        flags.brokers = v;
        break;
      case 'url': {
        const m = /^([\w-]+)=(.+)$/.exec(v);
        if (!m || !knownSystems.includes(m[1]!)) throw new UsageError(`--url ${v}: expected <system>=<url> with system one of ${knownSystems.join(', ')}`);
        flags.urls[m[1]!] = m[2]!;
        break;
      }
      case 'set': {
        const m = /^([\w-]+)\.([\w.-]+)=(.*)$/.exec(v);
        if (!m || !knownSystems.includes(m[1]!)) throw new UsageError(`--set ${v}: expected <system>.<option>=<value> with system one of ${knownSystems.join(', ')}`);
        flags.sets.push({ system: m[1]!, key: m[2]!, value: scalar(m[3]!) });
        break;
      }
      case 'out':
        if (!v) throw new UsageError('--out needs a directory');
        flags.out = v;
        break;
      case 'json':
        flags.json = true;
        break;
      case 'help':
        flags.help = true;
        break;
    }
  }
  return flags;
}

/** CLI flags win over the scenario file. */
export function applyFlags(s: Scenario, f: BenchFlags): Scenario {
  const systemOptions: Record<string, unknown> = { ...s.systemOptions };
  for (const { system, key, value } of f.sets) {
    const current = systemOptions[system];
    const section = typeof current === 'object' && current !== null && !Array.isArray(current) ? { ...(current as Record<string, unknown>) } : {};
    section[key] = value;
    systemOptions[system] = section;
  }
  return {
    ...s,
    systems: f.systems ?? s.systems,
    durationMs: f.duration ?? s.durationMs,
    warmupMs: f.warmup ?? s.warmupMs,
    drainTimeoutMs: f.drainTimeout ?? s.drainTimeoutMs,
    intervalMs: f.interval ?? s.intervalMs,
    rates: f.rate ? [f.rate] : s.rates,
    producers: f.producers ?? s.producers,
    consumers: f.consumers ?? s.consumers,
    messageSize: f.size ?? s.messageSize,
    batchSize: f.batch ?? s.batchSize,
    maxInFlight: f.inFlight ?? s.maxInFlight,
    workUs: f.workUs ?? s.workUs,
    systemOptions,
  };
}

export function helpText(scenarios: Array<{ name: string; description: string }>, systems: string[]): string {
  const width = Math.max(...FLAGS.map((f) => `--${f.name} ${f.value ?? ''}`.length));
  const lines = [
    'usage: npm run bench -- --scenario <name> [flags]',
    '',
    'scenarios (scenarios/*.yaml):',
    ...scenarios.map((s) => `  ${s.name.padEnd(14)} ${s.description}`),
    '',
    `systems: ${systems.join(', ')}`,
    '',
    'flags:',
    ...FLAGS.map((f) => `  ${`--${f.name} ${f.value ?? ''}`.padEnd(width)}  ${f.help}`),
    '',
    'Exit codes: 0 ok, 1 delivery errors or a failed system, 2 bad input, 130 interrupted.',
  ];
  return lines.join('\n');
}

