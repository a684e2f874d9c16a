/**
 * `payload:` in a scenario file and the --payload-* flags, parsed into a PayloadPlan
 * (src/core/payload.ts). Both go through one validation, so a bad value gets the same
 * one-line refusal either way, naming the field (or flag) and what is valid.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, UsageError, describeValue } from '../core/errors.ts';
import { MAX_MESSAGE_SIZE, MIN_MESSAGE_SIZE } from '../core/envelope.ts';
import { MAX_BODY_BYTES, MAX_PAYLOAD_FILE_BYTES, PAYLOAD_VERIFY, SIZE_DISTRIBUTIONS, largestMessage, payloadBodies, readPayloadFile, type PayloadPlan, type PayloadSize } from '../core/payload.ts';

export const PAYLOAD_KEYS = ['size', 'distribution', 'randomBytes', 'file', 'seed', 'verify'] as const;
type PayloadKey = (typeof PAYLOAD_KEYS)[number];

/** Throws the refusal for one field, in the words of where it came from. */
type Refuse = (field: PayloadKey | '(mapping)', expected: string, got: unknown) => never;

const SIZE_EXPECTED = `a whole message size from ${MIN_MESSAGE_SIZE} (the envelope busbench needs) to ${MAX_MESSAGE_SIZE} bytes, or a range such as "200..2000"`;

function messageBytes(v: string, refuse: Refuse, got: unknown): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n < MIN_MESSAGE_SIZE || n > MAX_MESSAGE_SIZE) refuse('size', SIZE_EXPECTED, got);
  return n;
}

function sizeOf(v: unknown, distribution: unknown, refuse: Refuse): PayloadSize {
  const text = typeof v === 'number' ? String(v) : typeof v === 'string' ? v : refuse('size', SIZE_EXPECTED, v);
  const range = /^\s*(\d+)\s*\.\.\s*(\d+)\s*$/.exec(text);
  if (!range) {
    if (distribution !== undefined) refuse('distribution', 'nothing with a fixed size (a distribution belongs to a range such as "200..2000")', distribution);
    return { kind: 'fixed', bytes: messageBytes(text, refuse, v) };
  }
  const min = messageBytes(range[1]!, refuse, v);
  const max = messageBytes(range[2]!, refuse, v);
  if (max <= min) refuse('size', `a range whose end is above its start (a fixed size is one number)`, v);
  const d = distribution ?? 'uniform';
  const dist = SIZE_DISTRIBUTIONS.find((x) => x === d) ?? refuse('distribution', `one of ${SIZE_DISTRIBUTIONS.join(', ')}`, d);
  return { kind: 'range', min, max, distribution: dist };
}

function share(v: unknown, refuse: Refuse): number {
  const n = typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 1) refuse('randomBytes', 'a share of the body from 0 to 1 (e.g. 0.5: half incompressible random bytes)', v);
  return n;
}

function seedOf(v: unknown, refuse: Refuse): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) refuse('seed', 'an integer from 0 to 4294967295', v);
  return n;
}

/** The file must exist and hold bodies that fit a message; read here so a bad file exits 2 before anything starts. */
function fileOf(v: unknown, base: string, refuse: Refuse): string {
  if (typeof v !== 'string' || v === '') refuse('file', 'the path of a file of payload bodies, one per line', v);
  const file = path.resolve(base, v);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file);
  } catch {
    refuse('file', 'an existing file of payload bodies, one per line', v);
  }
  if (!stat.isFile() || stat.size > MAX_PAYLOAD_FILE_BYTES) refuse('file', `a file of at most ${MAX_PAYLOAD_FILE_BYTES} bytes (every producer holds its bodies)`, v);
  const bodies = payloadBodies(new Uint8Array(fs.readFileSync(file)));
  if (bodies.length === 0) refuse('file', 'a file with at least one non-empty line (each line is one body)', v);
  const longest = bodies.reduce((m, b) => Math.max(m, b.length), 0);
  if (longest > MAX_BODY_BYTES) refuse('file', `bodies of at most ${MAX_BODY_BYTES} bytes (a message is at most ${MAX_MESSAGE_SIZE} with the envelope); its longest line has ${longest}`, v);
  return file;
}

/**
 * A payload mapping, as written. `base` is where a relative `file` is found (the scenario
 * file's folder, or the working directory for the flag).
 */
export function payloadOf(raw: unknown, base: string, refuse: Refuse): PayloadPlan {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) refuse('(mapping)', `a mapping of ${PAYLOAD_KEYS.join(', ')}`, raw);
  const f = raw as Record<string, unknown>;
  for (const key of Object.keys(f)) if (!(PAYLOAD_KEYS as readonly string[]).includes(key)) refuse('(mapping)', `the fields ${PAYLOAD_KEYS.join(', ')}`, key);
  if (f.size !== undefined && f.file !== undefined) refuse('file', 'nothing with payload.size (sizes come from the file\'s lines): give one of size and file', f.file);
  if (f.size === undefined && f.file === undefined) refuse('size', `${SIZE_EXPECTED}, or a file`, undefined);
  if (f.file !== undefined && f.distribution !== undefined) refuse('distribution', 'nothing with a file (sizes come from its lines)', f.distribution);
  if (f.file !== undefined && f.randomBytes !== undefined) refuse('randomBytes', 'nothing with a file (its bodies are sent as they are)', f.randomBytes);
  const verify = f.verify ?? 'sampled';
  return {
    ...(f.size !== undefined ? { size: sizeOf(f.size, f.distribution, refuse) } : {}),
    randomBytes: f.randomBytes === undefined ? 0 : share(f.randomBytes, refuse),
    ...(f.file !== undefined ? { file: fileOf(f.file, base, refuse) } : {}),
    seed: f.seed === undefined ? 1 : seedOf(f.seed, refuse),
    verify: PAYLOAD_VERIFY.find((x) => x === verify) ?? refuse('verify', `one of ${PAYLOAD_VERIFY.join(', ')}`, verify),
  };
}

/** The largest message the plan makes: the run's messageSize, which systems' size limits are checked against. */
export function payloadMessageSize(plan: PayloadPlan): number {
  return largestMessage(plan, plan.file ? readPayloadFile(plan.file) : undefined);
}

/** The scenario file's field: `messageSize` is the fixed-size shorthand, so giving both is refused. */
export function payloadField(file: string, raw: Record<string, unknown>): PayloadPlan | undefined {
  if (raw.payload === undefined) return undefined;
  if (raw.messageSize !== undefined) throw new ConfigError(file, 'messageSize', 'nothing with payload (payload.size sets the message size; messageSize is its fixed-size shorthand)', raw.messageSize);
  return payloadOf(raw.payload, path.dirname(path.resolve(file)), (field, expected, got) => {
    throw new ConfigError(file, field === '(mapping)' ? 'payload' : `payload.${field}`, expected, got);
  });
}

/** The flags, field by field. */
export const PAYLOAD_FLAGS: Record<PayloadKey, { flag: string; value: string; help: string }> = {
  size: { flag: 'payload-size', value: '<bytes|min..max>', help: `message size with the envelope, fixed or a range (e.g. 200..2000), at least ${MIN_MESSAGE_SIZE}` },
  distribution: { flag: 'payload-dist', value: '<uniform|lognormal>', help: 'how sizes of a --payload-size range are drawn (default uniform)' },
  randomBytes: { flag: 'payload-random-bytes', value: '<0..1>', help: 'share of each body that is incompressible random bytes (default 0)' },
  file: { flag: 'payload-file', value: '<path>', help: 'payload bodies, one per line, cycled' },
  seed: { flag: 'payload-seed', value: '<n>', help: 'seed of the sizes and random bytes (default 1)' },
  verify: { flag: 'payload-verify', value: '<all|sampled|off>', help: `consumers check body checksums: every message, every ${16}th, or none (default sampled)` },
};

/**
 * The flags over the scenario's payload, if any: each flag replaces its field. `--size`
 * with a payload flag is refused like messageSize with payload; a flag --payload-size
 * replaces a file's payload.file (and --payload-file its size).
 */
export function payloadFromFlags(scenario: PayloadPlan | undefined, flags: Partial<Record<PayloadKey, string>>, sizeFlag: number | undefined): PayloadPlan | undefined {
  const given = Object.keys(flags) as PayloadKey[];
  if (given.length === 0) {
    if (scenario && sizeFlag !== undefined) throw new UsageError(`--size ${sizeFlag}: not with the scenario's payload (use --payload-size)`);
    return scenario;
  }
  if (sizeFlag !== undefined) throw new UsageError(`--size ${sizeFlag}: not with --${PAYLOAD_FLAGS[given[0]!].flag} (--payload-size sets the message size; --size is its fixed-size shorthand)`);
  const base: Record<string, unknown> = scenario ? planToRaw(scenario) : {};
  if (flags.size !== undefined) delete base.file;
  if (flags.file !== undefined) for (const k of ['size', 'distribution', 'randomBytes']) delete base[k];
  if (flags.size !== undefined && !/\.\./.test(flags.size)) delete base.distribution;
  return payloadOf({ ...base, ...flags }, process.cwd(), (field, expected, got) => {
    const name = field === '(mapping)' ? 'payload' : PAYLOAD_FLAGS[field].flag;
    throw new UsageError(`--${name} ${got === undefined ? '(missing)' : typeof got === 'string' ? got : describeValue(got)}: expected ${expected}`);
  });
}

function planToRaw(p: PayloadPlan): Record<string, unknown> {
  const size = p.size ? (p.size.kind === 'fixed' ? { size: p.size.bytes } : { size: `${p.size.min}..${p.size.max}`, distribution: p.size.distribution }) : {};
  return { ...size, ...(p.file ? { file: p.file } : { randomBytes: p.randomBytes }), seed: p.seed, verify: p.verify };
}
