/**
 * Typed errors with stable codes, in the manner of nats.js: callers branch on `code`,
 * and the CLI maps codes to exit statuses (usage and config errors exit 2).
 */
export type ErrorCode =
  | 'USAGE' // bad CLI flag or value
  | 'CONFIG' // bad scenario file or field
  | 'BROKER' // a broker failed to install, start or answer
  | 'ADAPTER' // a system adapter failed during a run
  | 'DELIVERY' // the run lost, duplicated or reordered messages
  | 'RESULT' // a result file could not be read or written
  | 'INTERRUPTED';

export class BusbenchError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BusbenchError';
  }
}

/** Bad input from the user: one line naming the bad value and what is valid. Exit code 2. */
export class UsageError extends BusbenchError {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

/** A scenario file or field is invalid. The message names the file, the field and what was expected. */
export class ConfigError extends BusbenchError {
  constructor(
    readonly file: string,
    readonly field: string,
    expected: string,
    got: unknown,
  ) {
    super('CONFIG', `${file}: ${field}: expected ${expected}, got ${describeValue(got)}`);
    this.name = 'ConfigError';
  }
}

/** A broker could not be installed, started or reached. Carries the tail of its log. */
export class BrokerError extends BusbenchError {
  constructor(
    message: string,
    readonly logTail: string = '',
    options?: { cause?: unknown },
  ) {
    super('BROKER', logTail ? `${message}\n--- last lines of the broker log ---\n${logTail}` : message, options);
    this.name = 'BrokerError';
  }
}

export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof BusbenchError && (err.code === 'USAGE' || err.code === 'CONFIG')) return 2;
  if (err instanceof BusbenchError && err.code === 'INTERRUPTED') return 130;
  return 1;
}
