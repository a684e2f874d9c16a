/**
 * Rate schedules in a scenario (`rate: {steps: [...]}` or `rate: {ramp: {...}}`) and on
 * the command line (`--rate steps:10k/30s,50k/30s`, `--rate ramp:10k..200k/60s`). A
 * schedule is one run whose measured window follows it; a list under `rate:` stays a
 * list of separate runs, so a mapping there cannot be mistaken for one.
 */
import { ConfigError, UsageError } from '../core/errors.ts';
import { scheduleLengthMs, type RateSchedule, type RateSegment } from '../core/rate-profile.ts';
import { parseDurationMs } from '../core/units.ts';

/** a schedule's segments are held per run in memory and in the result: bounded */
export const MAX_STEPS = 1000;
const MIN_SEGMENT_MS = 100;

/** msg/s as a positive number or with a k/M suffix ("50k", "1.5M"); undefined otherwise */
export function parseMsgsPerSec(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const k = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(v.trim());
  if (!k) return undefined;
  const perSec = Number(k[1]) * (k[2] === '' ? 1 : k[2]!.toLowerCase() === 'k' ? 1e3 : 1e6);
  return perSec > 0 ? perSec : undefined;
}

const SHAPE = 'a mapping with "steps" (a list of {for: <duration>, rate: <msg/s>}) or "ramp" ({from: <msg/s>, to: <msg/s>, over: <duration>})';
const PER_SEC = 'a positive number of msg/s (e.g. 10000 or "10k")';
const SEGMENT_LENGTH = `a duration such as "500ms" or "30s", at least ${MIN_SEGMENT_MS} ms`;

function mapping(file: string, field: string, v: unknown, keys: string[], expected: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(file, field, expected, v);
  const m = v as Record<string, unknown>;
  for (const key of Object.keys(m)) if (!keys.includes(key)) throw new ConfigError(file, `${field}.${key}`, `one of the fields ${keys.join(', ')}`, key);
  for (const key of keys) if (m[key] === undefined) throw new ConfigError(file, `${field}.${key}`, expected, undefined);
  return m;
}

function perSec(file: string, field: string, v: unknown): number {
  const r = parseMsgsPerSec(v);
  if (r === undefined) throw new ConfigError(file, field, PER_SEC, v);
  return r;
}

function length(file: string, field: string, v: unknown): number {
  const ms = typeof v === 'number' ? v * 1000 : typeof v === 'string' ? parseDurationMs(v) : undefined;
  if (ms === undefined || !Number.isFinite(ms) || ms < MIN_SEGMENT_MS) throw new ConfigError(file, field, SEGMENT_LENGTH, v);
  return ms;
}

/** `rate:` as a mapping: a schedule, or a ConfigError naming the bad part. */
export function scheduleOf(file: string, v: unknown): RateSchedule {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.keys(v).length !== 1) throw new ConfigError(file, 'rate', SHAPE, v);
  const m = v as Record<string, unknown>;
  if ('ramp' in m) {
    const r = mapping(file, 'rate.ramp', m.ramp, ['from', 'to', 'over'], '{from: <msg/s>, to: <msg/s>, over: <duration>}');
    const segment = { durationMs: length(file, 'rate.ramp.over', r.over), fromPerSec: perSec(file, 'rate.ramp.from', r.from), toPerSec: perSec(file, 'rate.ramp.to', r.to) };
    return { kind: 'ramp', segments: [segment] };
  }
  if (!('steps' in m)) throw new ConfigError(file, `rate.${Object.keys(m)[0]}`, SHAPE, Object.keys(m)[0]);
  const steps = m.steps;
  if (!Array.isArray(steps) || steps.length === 0 || steps.length > MAX_STEPS) throw new ConfigError(file, 'rate.steps', `a list of 1 to ${MAX_STEPS} steps {for: <duration>, rate: <msg/s>}`, steps);
  const segments = steps.map((step, i): RateSegment => {
    const s = mapping(file, `rate.steps[${i}]`, step, ['for', 'rate'], '{for: <duration>, rate: <msg/s>}');
    const rate = perSec(file, `rate.steps[${i}].rate`, s.rate);
    return { durationMs: length(file, `rate.steps[${i}].for`, s.for), fromPerSec: rate, toPerSec: rate };
  });
  return { kind: 'steps', segments };
}

const FLAG_FORMS = 'steps:<rate>/<duration>,... (e.g. steps:10k/30s,50k/30s) or ramp:<from>..<to>/<duration> (e.g. ramp:10k..200k/60s)';

/** `--rate steps:…` or `--rate ramp:…`; undefined when `v` is neither form */
export function scheduleFlag(v: string): RateSchedule | undefined {
  const form = /^(steps|ramp):(.*)$/.exec(v.trim());
  if (!form) return undefined;
  const bad = (): never => {
    throw new UsageError(`--rate ${v}: expected ${FLAG_FORMS}, rates > 0, durations with a unit of at least ${MIN_SEGMENT_MS} ms`);
  };
  const part = (text: string): { rates: number[]; ms: number } => {
    const m = /^([^/]+)\/([^/]+)$/.exec(text.trim()) ?? bad();
    const ms = /[a-z]$/.test(m[2]!) ? parseDurationMs(m[2]!) : undefined;
    const rates = m[1]!.split('..').map(parseMsgsPerSec);
    if (ms === undefined || ms < MIN_SEGMENT_MS || rates.some((r) => r === undefined)) return bad();
    return { rates: rates as number[], ms };
  };
  if (form[1] === 'ramp') {
    const { rates, ms } = part(form[2]!);
    if (rates.length !== 2) return bad();
    return { kind: 'ramp', segments: [{ durationMs: ms, fromPerSec: rates[0]!, toPerSec: rates[1]! }] };
  }
  const steps = form[2]!.split(',').map(part);
  if (steps.length > MAX_STEPS || steps.some((s) => s.rates.length !== 1)) return bad();
  return { kind: 'steps', segments: steps.map((s) => ({ durationMs: s.ms, fromPerSec: s.rates[0]!, toPerSec: s.rates[0]! })) };
}

/** as the flag writes it: 10000 → "10k", 1500000 → "1.5M" */
function shortRate(n: number): string {
  if (n >= 1e6 && n % 1e4 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 10 === 0) return `${n / 1e3}k`;
  return String(n);
}

/** e.g. "steps 10k/30s, 50k/30s" or "ramp 10k→200k over 60s" */
export function describeSchedule(s: RateSchedule): string {
  const formatRate = shortRate;
  const secs = (ms: number): string => `${ms / 1000}s`;
  if (s.kind === 'ramp') {
    const g = s.segments[0]!;
    return `ramp ${formatRate(g.fromPerSec)}→${formatRate(g.toPerSec)} over ${secs(g.durationMs)}`;
  }
  return `steps ${s.segments.map((g) => `${formatRate(g.fromPerSec)}/${secs(g.durationMs)}`).join(', ')}`;
}

/**
 * What a schedule needs of the rest of the scenario, checked once flags are applied:
 * the measured window is the schedule (a duration given must agree), and each step is
 * a whole number of intervals, so the per-step figures add up whole intervals.
 */
export function checkScheduleFits(file: string, s: RateSchedule, durationMs: number, intervalMs: number): void {
  const total = scheduleLengthMs(s);
  if (durationMs !== total) throw new ConfigError(file, 'duration', `${total / 1000}s, the length of the rate schedule (or no duration)`, `${durationMs / 1000}s`);
  if (s.kind !== 'steps') return;
  s.segments.forEach((g, i) => {
    if (g.durationMs % intervalMs !== 0) throw new ConfigError(file, `rate.steps[${i}].for`, `a multiple of interval (${intervalMs} ms)`, `${g.durationMs} ms`);
  });
}
