/**
 * The order message of the reference document: JSON with trace_id, timestamp, price and
 * qty, padded to the configured size. It also carries what the harness checks: producer
 * id, per-producer sequence number, and the intended send time.
 *
 * Encoding must not dominate the hot path, so a template is encoded once and the varying
 * fields are stamped in place at fixed offsets. Numbers are right-aligned in fixed-width
 * fields padded with spaces, which JSON allows before a value, so every message is still
 * plain JSON that `JSON.parse` reads.
 */
const FIELDS = {
  producer: 5,
  seq: 16,
  sentNs: 19,
  timestamp: 13,
  qty: 3,
  // the body's checksum (payload runs; 0 otherwise): 32 bits unsigned, 10 digits
  sum: 10,
} as const;

const ZEROS = (n: number): string => '0'.repeat(n);
const SPACES = (n: number): string => ' '.repeat(n);

// Order matters: offsets below are found by searching for these markers in the header.
const HEADER =
  `{"trace_id":"${ZEROS(FIELDS.producer)}-${ZEROS(FIELDS.seq)}",` +
  `"producer":${SPACES(FIELDS.producer)},` +
  `"seq":${SPACES(FIELDS.seq)},` +
  `"sent_ns":${SPACES(FIELDS.sentNs)},` +
  `"timestamp":${SPACES(FIELDS.timestamp)},` +
  `"symbol":"BTC-USDT","side":"buy","price":64250.50,` +
  `"qty":${SPACES(FIELDS.qty)},` +
  `"sum":${SPACES(FIELDS.sum)},` +
  `"pad":"`;
const TRAILER = '"}';

function offsetAfter(marker: string): number {
  const i = HEADER.indexOf(marker);
  if (i < 0) throw new Error(`envelope marker ${marker} missing`);
  return i + marker.length;
}

export const OFFSETS = {
  traceProducer: offsetAfter('{"trace_id":"'),
  traceSeq: offsetAfter('{"trace_id":"') + FIELDS.producer + 1,
  producer: offsetAfter('"producer":'),
  seq: offsetAfter('"seq":'),
  sentNs: offsetAfter('"sent_ns":'),
  timestamp: offsetAfter('"timestamp":'),
  qty: offsetAfter('"qty":'),
  sum: offsetAfter('"sum":'),
} as const;

/** Where the body starts: everything before is the envelope busbench stamps and reads. */
export const BODY_OFFSET = HEADER.length;
/** What closes a message after its body. */
export const TRAILER_BYTES = new TextEncoder().encode(TRAILER);

export const MIN_MESSAGE_SIZE = HEADER.length + TRAILER.length;
export const MAX_MESSAGE_SIZE = 1 << 20;
export const MAX_PRODUCER_ID = 10 ** FIELDS.producer - 1;

const SPACE = 0x20;
const ZERO = 0x30;
const COLON = 0x3a;

/**
 * Writes a non-negative integer right-aligned in [off, off+width), padded with `pad`.
 * Digits are peeled eight at a time as int32 (`| 0` division) and written two at a time
 * from a table: float division by 10, digit by digit, made this the producer's hottest line.
 */
function writeInt(buf: Uint8Array, off: number, width: number, value: number, pad: number): void {
  let i = off + width - 1;
  let v = value;
  while (v >= 1e8 && i >= off + 8) {
    const hi = Math.floor(v / 1e8);
    let lo = (v - hi * 1e8) | 0;
    for (let k = 0; k < 4; k++) {
      const q = (lo / 100) | 0;
      const r = (lo - q * 100) << 1;
      buf[i--] = DIGIT_PAIRS[r + 1]!;
      buf[i--] = DIGIT_PAIRS[r]!;
      lo = q;
    }
    v = hi;
  }
  let w = v | 0;
  while (w >= 100 && i >= off + 1) {
    const q = (w / 100) | 0;
    const r = (w - q * 100) << 1;
    buf[i--] = DIGIT_PAIRS[r + 1]!;
    buf[i--] = DIGIT_PAIRS[r]!;
    w = q;
  }
  do {
    const q = (w / 10) | 0;
    buf[i--] = ZERO + w - q * 10;
    w = q;
  } while (w > 0 && i >= off);
  while (i >= off) buf[i--] = pad;
}

/** "00".."99" as ASCII pairs: two digits per division. */
const DIGIT_PAIRS = new Uint8Array(200);
for (let n = 0; n < 100; n++) {
  DIGIT_PAIRS[2 * n] = ZERO + Math.floor(n / 10);
  DIGIT_PAIRS[2 * n + 1] = ZERO + (n % 10);
}

/**
 * Four ASCII digits, leading spaces among them read as zeros, as one number (0..9999):
 * `x` holds them little-endian, the first (most significant) in its low byte. A digit
 * has bit 0x10 set and a space (0x20) has not, so setting it turns spaces into '0'.
 */
function quad(x: number): number {
  const d = (x | 0x10101010) - 0x30303030;
  const pairs = (Math.imul(d, 10) + (d >>> 8)) & 0x00ff00ff;
  return (pairs & 0xff) * 100 + (pairs >>> 16);
}

/**
 * Reads a right-aligned, space-padded decimal field. Four digits a step after the first
 * width % 4: a byte and a branch per digit made the consumer's three reads per message
 * (producer, seq, sent_ns) about half of its time.
 */
function readInt(buf: Uint8Array, off: number, width: number): number {
  let v = 0;
  let i = off;
  const head = off + (width & 3);
  for (; i < head; i++) {
    const c = buf[i]!;
    if (c !== SPACE) v = v * 10 + (c - ZERO);
  }
  const end = off + width;
  for (; i < end; i += 4) v = v * 10000 + quad(buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
  return v;
}

/** Quantity is a pure function of the sequence so that a consumer's state can be checked. */
export function qtyFor(seq: number): number {
  return 1 + (seq % 100);
}

/** Builds the template message of `size` bytes for one producer. */
export function encodeTemplate(size: number, producerId: number): Uint8Array {
  if (!Number.isInteger(size) || size < MIN_MESSAGE_SIZE || size > MAX_MESSAGE_SIZE) {
    throw new RangeError(`message size ${size} is outside ${MIN_MESSAGE_SIZE}..${MAX_MESSAGE_SIZE}`);
  }
  if (!Number.isInteger(producerId) || producerId < 0 || producerId > MAX_PRODUCER_ID) {
    throw new RangeError(`producer id ${producerId} is outside 0..${MAX_PRODUCER_ID}`);
  }
  const text = HEADER + 'x'.repeat(size - MIN_MESSAGE_SIZE) + TRAILER;
  const buf = new TextEncoder().encode(text);
  writeInt(buf, OFFSETS.traceProducer, FIELDS.producer, producerId, ZERO);
  writeInt(buf, OFFSETS.producer, FIELDS.producer, producerId, SPACE);
  writeInt(buf, OFFSETS.sum, FIELDS.sum, 0, SPACE);
  return buf;
}

/** The envelope alone (producer stamped, no body, no trailer): a payload pool puts bodies after it. */
export function encodeHeader(producerId: number): Uint8Array {
  return encodeTemplate(MIN_MESSAGE_SIZE, producerId).slice(0, BODY_OFFSET);
}

/**
 * A cheap checksum of bytes [from, to), a 32-bit word at a time (little-endian, the tail
 * bytewise), seeded with the length. Each step (xor the word, multiply by an odd constant,
 * xorshift) is a bijection of the state, so any change confined to one word (a flipped
 * byte, a bit) always changes the result, and a length change does too.
 */
export function bodyChecksum(buf: Uint8Array, from: number, to: number): number {
  let h = (0x811c9dc5 ^ (to - from)) | 0;
  const end4 = from + ((to - from) & ~3);
  let i = from;
  for (; i < end4; i += 4) {
    h = Math.imul(h ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)), 0x01000193);
    h ^= h >>> 15;
  }
  for (; i < to; i++) {
    h = Math.imul(h ^ buf[i]!, 0x01000193);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

/** Writes the checksum of the message's body [BODY_OFFSET, length) into its envelope. */
export function sealBody(buf: Uint8Array, off: number, length: number): void {
  writeInt(buf, off + OFFSETS.sum, FIELDS.sum, bodyChecksum(buf, off + BODY_OFFSET, off + length), SPACE);
}

/** Whether the message's body still matches the checksum its envelope carries. */
export function bodyIntact(buf: Uint8Array, off: number, length: number): boolean {
  return readInt(buf, off + OFFSETS.sum, FIELDS.sum) === bodyChecksum(buf, off + BODY_OFFSET, off + length);
}

/**
 * Stamps the per-message fields into a copy of the template at `off`.
 * `wallMs` is the wall-clock timestamp field of the order; `sentNs` the intended send time.
 */
export function stamp(buf: Uint8Array, off: number, seq: number, sentNs: number, wallMs: number): void {
  stampSeq(buf, off, seq);
  writeInt(buf, off + OFFSETS.sentNs, FIELDS.sentNs, sentNs, SPACE);
  writeInt(buf, off + OFFSETS.timestamp, FIELDS.timestamp, wallMs, SPACE);
}

function stampSeq(buf: Uint8Array, off: number, seq: number): void {
  writeInt(buf, off + OFFSETS.seq, FIELDS.seq, seq, SPACE);
  // the trace id holds the same digits, zero-padded: copy them instead of formatting twice
  const from = off + OFFSETS.seq;
  const to = off + OFFSETS.traceSeq;
  for (let k = 0; k < FIELDS.seq; k++) {
    const c = buf[from + k]!;
    buf[to + k] = c === SPACE ? ZERO : c;
  }
  writeInt(buf, off + OFFSETS.qty, FIELDS.qty, qtyFor(seq), SPACE);
}

/** The stamped fields of a message from the trace id's sequence through qty: producer, seq, times, qty. */
const STAMPED_FROM = OFFSETS.traceSeq;
const STAMPED_TO = OFFSETS.qty + FIELDS.qty;
const NINE = 0x39;
const ONE = 0x31;

/**
 * Adds one to the right-aligned decimal number in [first, last], whose padding is spaces
 * or zeros. A sequence only grows, so the digits carry into the padding and never past it.
 */
function increment(buf: Uint8Array, first: number, last: number): void {
  for (let p = last; p >= first; p--) {
    const c = buf[p]!;
    if (c === NINE) {
      buf[p] = ZERO;
      continue;
    }
    buf[p] = c === SPACE ? ONE : c + 1;
    return;
  }
}

/**
 * Stamps message `seq` at `off` as the one at `prev` (sequence seq-1) with one more:
 * its stamped fields copied over, then the sequence, its trace-id digits and qty moved
 * on by one, each usually one byte. Formatting every field of every message cost ~90 ns
 * a message here (a 512-byte message's copy into the ring costs ~30): a closed-loop
 * producer could not pass ~10 M msg/s for stamping alone.
 */
function stampNext(buf: Uint8Array, prev: number, off: number, seq: number): void {
  buf.copyWithin(off + STAMPED_FROM, prev + STAMPED_FROM, prev + STAMPED_TO);
  increment(buf, off + OFFSETS.seq, off + OFFSETS.seq + FIELDS.seq - 1);
  increment(buf, off + OFFSETS.traceSeq, off + OFFSETS.traceSeq + FIELDS.seq - 1);
  const qty = off + OFFSETS.qty;
  if (qtyFor(seq) === 1) {
    buf[qty] = SPACE;
    buf[qty + 1] = SPACE;
    buf[qty + 2] = ONE;
  } else increment(buf, qty, qty + FIELDS.qty - 1);
}

/**
 * Stamps `count` consecutive messages of `size` bytes, sequences firstSeq.. . The first
 * is formatted; each later one is the one before it plus one (stampNext), with its own
 * send time formatted over the copy when `sentNs` has one per message (open loop).
 */
export function stampBatch(buf: Uint8Array, size: number, count: number, firstSeq: number, sentNs: number | Float64Array, wallMs: number): void {
  const shared = typeof sentNs === 'number';
  stamp(buf, 0, firstSeq, shared ? sentNs : sentNs[0]!, wallMs);
  for (let i = 1; i < count; i++) {
    const off = i * size;
    stampNext(buf, off - size, off, firstSeq + i);
    if (!shared) writeInt(buf, off + OFFSETS.sentNs, FIELDS.sentNs, sentNs[i]!, SPACE);
  }
}

/**
 * stampBatch for messages of varying size: message k (first <= k < first+count) starts at
 * offsets[k] of `buf` (a payload pool, stamped in place).
 */
export function stampAt(buf: Uint8Array, offsets: Uint32Array, first: number, count: number, firstSeq: number, sentNs: number | Float64Array, wallMs: number): void {
  const shared = typeof sentNs === 'number';
  stamp(buf, offsets[first]!, firstSeq, shared ? sentNs : sentNs[0]!, wallMs);
  for (let i = 1; i < count; i++) {
    const off = offsets[first + i]!;
    stampNext(buf, offsets[first + i - 1]!, off, firstSeq + i);
    if (!shared) writeInt(buf, off + OFFSETS.sentNs, FIELDS.sentNs, sentNs[i]!, SPACE);
  }
}

export function readProducer(buf: Uint8Array, off: number): number {
  return readInt(buf, off + OFFSETS.producer, FIELDS.producer);
}

export function readSeq(buf: Uint8Array, off: number): number {
  return readInt(buf, off + OFFSETS.seq, FIELDS.seq);
}

export function readSentNs(buf: Uint8Array, off: number): number {
  return readInt(buf, off + OFFSETS.sentNs, FIELDS.sentNs);
}

export function readQty(buf: Uint8Array, off: number): number {
  return readInt(buf, off + OFFSETS.qty, FIELDS.qty);
}

/** The trace id as text: producer and sequence, carried end to end through every hop. */
export function readTraceId(buf: Uint8Array, off: number): string {
  let s = '';
  const end = off + OFFSETS.traceSeq + FIELDS.seq;
  for (let i = off + OFFSETS.traceProducer; i < end; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

/**
 * Cheap sanity check that `off` starts one of our messages: its first byte, the colon
 * before sent_ns (on a line the consumer reads anyway), and its closing brace, unless
 * the message has the run's fixed size (`fixedLength`, 0: sizes vary): then a truncated
 * one cannot pass, and reading its last byte, a cache line of its own that another core
 * wrote, cost the ring's consumer 25-60 ns a message (ring-perf's closed loop, A/B).
 */
export function looksLikeEnvelope(buf: Uint8Array, off: number, length: number, fixedLength = 0): boolean {
  if (length < MIN_MESSAGE_SIZE || buf[off] !== 0x7b || buf[off + OFFSETS.sentNs - 1] !== COLON) return false;
  return length === fixedLength || buf[off + length - 1] === 0x7d;
}
