/**
 * The option toolkit: one reader per kind of field (a word from a list, on/off, an
 * integer, a size in bytes, a duration). Every system's section and the scenario file
 * read their fields with it, so a field of one kind accepts the same spellings and fails
 * the same way everywhere: a ConfigError naming where, the field, the bad value and what
 * is valid.
 */
import { ConfigError } from './errors.ts';
import { parseDurationMs } from './units.ts';

/**
 * How the valid words of a field are listed in its error. The texts predate the toolkit
 * and tests (and users' scripts) match them, so each caller keeps its own:
 *   - 'or':   "a" or "b" or "c"
 *   - 'list': one of a, b, c
 *   - 'auto': "a" or "b" for two words, one of a, b, c for more
 */
export type ChoiceStyle = 'or' | 'list' | 'auto';

export function describeChoices(values: readonly string[], style: ChoiceStyle = 'auto'): string {
  const quoted = style === 'or' || (style === 'auto' && values.length === 2);
  return quoted ? values.map((v) => `"${v}"`).join(' or ') : `one of ${values.join(', ')}`;
}

export function oneOf<T extends string>(where: string, field: string, v: unknown, allowed: readonly T[], style: ChoiceStyle = 'auto'): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new ConfigError(where, field, describeChoices(allowed, style), v);
  return v as T;
}

/** "on" or "off"; YAML 1.1 readers turn those words into booleans, so booleans count too. */
export function onOff(where: string, field: string, v: unknown): boolean {
  if (v === 'on' || v === true) return true;
  if (v === 'off' || v === false) return false;
  throw new ConfigError(where, field, '"on" or "off"', v);
}

export interface IntegerRange {
  min: number;
  /** no upper bound when absent: the error then says ">= min" */
  max?: number;
  /** appended to ">= min", e.g. " (-1: no limit)" */
  hint?: string;
}

export function integer(where: string, field: string, v: unknown, range: IntegerRange): number {
  const { min, max } = range;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || (max !== undefined && v > max)) {
    throw new ConfigError(where, field, max === undefined ? `an integer >= ${min}${range.hint ?? ''}` : `an integer from ${min} to ${max}`, v);
  }
  return v;
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1 << 20, mb: 1 << 20, mib: 1 << 20, g: 1 << 30, gb: 1 << 30, gib: 1 << 30 };

/** Bytes as a number or with a binary unit ("64KiB", "4 MiB", "1g"); undefined if unreadable. */
export function parseBytes(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(v);
  const unit = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined;
  return m && unit !== undefined ? Number(m[1]) * unit : undefined;
}

export interface SizeRange {
  min: number;
  max: number;
  powerOfTwo?: boolean;
  /** what is valid, in the field's own words */
  expected: string;
}

const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

export function sizes(where: string, field: string, v: unknown, range: SizeRange): number {
  const n = parseBytes(v);
  if (n === undefined || !Number.isInteger(n) || n < range.min || n > range.max || (range.powerOfTwo && !isPowerOfTwo(n))) {
    throw new ConfigError(where, field, range.expected, v);
  }
  return n;
}

export interface DurationRange {
  minMs: number;
  /** true: minMs itself is refused (a duration that must be positive has minMs 0) */
  exclusive?: boolean;
  expected: string;
}

/** A duration in milliseconds, written as in units.ts ("500ms", "30s", "2m", or seconds). */
export function durations(where: string, field: string, v: unknown, range: DurationRange): number {
  const ms = parseDurationMs(v);
  if (ms === undefined || ms < range.minMs || (range.exclusive && ms === range.minMs)) throw new ConfigError(where, field, range.expected, v);
  return ms;
}

/**
 * A system's section of a scenario (`<system>:` or built by --set), undefined when the
 * scenario has none. Refuses anything but a mapping of known fields.
 */
export function sectionOf(raw: unknown, where: string, system: string, fields: readonly string[], what: string): Record<string, unknown> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(where, system, `a mapping of ${what}`, raw);
  const section = raw as Record<string, unknown>;
  for (const key of Object.keys(section)) if (!fields.includes(key)) throw new ConfigError(where, `${system}.${key}`, `one of the fields ${fields.join(', ')}`, key);
  return section;
}

/** The readers above bound to one system's section: a field left out takes its default. */
export class SectionReader {
  constructor(
    readonly where: string,
    readonly system: string,
    readonly section: Record<string, unknown>,
    private readonly style: ChoiceStyle = 'auto',
  ) {}

  field(key: string): string {
    return `${this.system}.${key}`;
  }

  /** A refusal that no single reader can make (a combination of fields). */
  refuse(key: string, expected: string, got: unknown = this.section[key]): never {
    throw new ConfigError(this.where, this.field(key), expected, got);
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], dflt: T): T {
    const v = this.section[key];
    return v === undefined ? dflt : oneOf(this.where, this.field(key), v, allowed, this.style);
  }

  onOff(key: string, dflt: boolean): boolean {
    const v = this.section[key];
    return v === undefined ? dflt : onOff(this.where, this.field(key), v);
  }

  /** onOff for fields whose parsed form keeps the words "on" and "off" */
  onOffWord(key: string, dflt: 'on' | 'off'): 'on' | 'off' {
    return this.onOff(key, dflt === 'on') ? 'on' : 'off';
  }

  integer(key: string, range: IntegerRange, dflt: number): number {
    const v = this.section[key];
    return v === undefined ? dflt : integer(this.where, this.field(key), v, range);
  }

  size(key: string, range: SizeRange, dflt: number): number {
    const v = this.section[key];
    return v === undefined ? dflt : sizes(this.where, this.field(key), v, range);
  }

  duration(key: string, range: DurationRange, dflt: number): number {
    const v = this.section[key];
    return v === undefined ? dflt : durations(this.where, this.field(key), v, range);
  }
}
