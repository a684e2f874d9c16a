/**
 * `backlog:` in a scenario (and `--backlog` on the command line): the run builds a backlog
 * with its consumers paused, then resumes them and measures the drain while the producers
 * keep their rate, as OpenMessaging Benchmark's consumerBacklogSizeGB does.
 *
 *   backlog: {size: 1GB}                  # bytes of messages (B, KB, MB, GB, KiB, MiB, GiB)
 *   backlog: {messages: 100k}             # or a count of messages
 *   backlog: {size: 1GB, maxDrain: 2m, maxBuild: 5m}
 *
 * A size is counted in whole messages of the scenario's messageSize (rounded up), resolved
 * when the run is planned, so that --size changes the count and not the size.
 */
import { ConfigError, UsageError } from '../core/errors.ts';
import { parseDurationMs } from '../core/units.ts';

export interface BacklogPlan {
  /** the backlog as asked: bytes of messages, or a count of them */
  target: { bytes: number } | { messages: number };
  /** the drain gives up after this long (the verdict then says it never caught up) */
  maxDrainMs: number;
  /** the build gives up after this long; absent: twice what the rate needs, plus 5 s */
  maxBuildMs?: number;
}

export const MAX_BACKLOG_MESSAGES = 1e9;
const KEYS = ['size', 'messages', 'maxDrain', 'maxBuild'];
const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };
const SIZE_EXPECTED = 'a size such as "512MB", "1GB" or "1GiB" (units B, KB, MB, GB, KiB, MiB, GiB)';
const COUNT_EXPECTED = `a whole number of messages, or with a k/M suffix ("100k"), at most ${MAX_BACKLOG_MESSAGES}`;
const DURATION_EXPECTED = 'a duration such as "30s" or "2m", at least 1 s';
const DEFAULT_MAX_DRAIN_MS = 60_000;

/** bytes from "1GB", "512MiB", "1e9" or a number; undefined when it is not a positive size */
export function parseSizeBytes(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? Math.ceil(v) : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(v.trim());
  const unit = UNITS[(m?.[2] || 'b').toLowerCase()];
  if (!m || unit === undefined) return undefined;
  const bytes = Math.ceil(Number(m[1]) * unit);
  return bytes > 0 ? bytes : undefined;
}

function parseCount(v: unknown): number | undefined {
  const m = typeof v === 'number' ? [String(v), String(v), ''] : typeof v === 'string' ? /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(v.trim()) : null;
  if (!m) return undefined;
  const n = Number(m[1]) * (m[2] === '' ? 1 : m[2]!.toLowerCase() === 'k' ? 1e3 : 1e6);
  return Number.isInteger(n) && n >= 1 && n <= MAX_BACKLOG_MESSAGES ? n : undefined;
}

function durationOf(file: string, field: string, v: unknown): number {
  const ms = parseDurationMs(v);
  if (ms === undefined || ms < 1000) throw new ConfigError(file, field, DURATION_EXPECTED, v);
  return ms;
}

export function backlogPlan(file: string, v: unknown): BacklogPlan {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(file, 'backlog', 'a mapping {size: <bytes>} or {messages: <count>}, optionally with maxDrain and maxBuild', v);
  const f = v as Record<string, unknown>;
  for (const key of Object.keys(f)) if (!KEYS.includes(key)) throw new ConfigError(file, `backlog.${key}`, `one of the fields ${KEYS.join(', ')}`, key);
  if ((f.size === undefined) === (f.messages === undefined)) throw new ConfigError(file, 'backlog', 'exactly one of backlog.size and backlog.messages', v);
  let target: BacklogPlan['target'];
  if (f.size !== undefined) {
    const bytes = parseSizeBytes(f.size);
    if (bytes === undefined) throw new ConfigError(file, 'backlog.size', SIZE_EXPECTED, f.size);
    target = { bytes };
  } else {
    const messages = parseCount(f.messages);
    if (messages === undefined) throw new ConfigError(file, 'backlog.messages', COUNT_EXPECTED, f.messages);
    target = { messages };
  }
  return {
    target,
    maxDrainMs: f.maxDrain === undefined ? DEFAULT_MAX_DRAIN_MS : durationOf(file, 'backlog.maxDrain', f.maxDrain),
    ...(f.maxBuild !== undefined ? { maxBuildMs: durationOf(file, 'backlog.maxBuild', f.maxBuild) } : {}),
  };
}

/** `--backlog 1GB` or `--backlog 100k` (messages): a size has a unit, a count has none or k/M. */
export function backlogFlag(v: string): BacklogPlan {
  const messages = parseCount(v);
  if (messages !== undefined) return { target: { messages }, maxDrainMs: DEFAULT_MAX_DRAIN_MS };
  const bytes = /[a-zA-Z]$/.test(v.trim()) ? parseSizeBytes(v) : undefined;
  if (bytes === undefined) throw new UsageError(`--backlog ${v}: expected ${SIZE_EXPECTED}, or a count of messages (e.g. 100k)`);
  return { target: { bytes }, maxDrainMs: DEFAULT_MAX_DRAIN_MS };
}

/** The backlog in whole messages of `messageSize` and their bytes. */
export function backlogTarget(plan: BacklogPlan, messageSize: number): { messages: number; bytes: number } {
  const messages = 'messages' in plan.target ? plan.target.messages : Math.ceil(plan.target.bytes / messageSize);
  return { messages, bytes: messages * messageSize };
}

/** Twice the time the rate needs to build the backlog, plus 5 s, unless the plan says. */
export function maxBuildMs(plan: BacklogPlan, messages: number, ratePerSec: number): number {
  return plan.maxBuildMs ?? Math.ceil((2 * messages * 1000) / ratePerSec + 5000);
}

/** In words, for labels and notes: "1GB" as bytes, or "100000 messages". */
export function describeBacklog(plan: BacklogPlan): string {
  return 'messages' in plan.target ? `${plan.target.messages} messages` : `${plan.target.bytes} B`;
}

/**
 * A backlog needs a rate the producers keep while the consumers are paused: a closed loop
 * stops at its in-flight window, and a schedule or a search has no one rate to hold.
 */
export function checkBacklogRates(file: string, rates: ReadonlyArray<{ kind: string }>): void {
  const bad = rates.find((r) => r.kind !== 'fixed' && r.kind !== 'fraction');
  if (bad) {
    const why = bad.kind === 'max' ? 'a closed loop stops at its in-flight window while the consumers are paused' : `a ${bad.kind} rate has no one rate to keep through build and drain`;
    throw new ConfigError(file, 'rate', `a fixed rate (msg/s or "N%") with backlog (${why})`, bad.kind);
  }
}
