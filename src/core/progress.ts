/**
 * What the engine reports while a run is under way. It lives in core because both the
 * engine (which emits it) and the report (which draws it) need it, and neither may
 * import the other.
 */
export interface Progress {
  phase: 'starting' | 'warmup' | 'measure' | 'drain';
  system: string;
  label: string;
  elapsedMs: number;
  totalMs: number;
  msgsPerSec: number;
  p99Us: number | null;
  sent: number;
  received: number;
}
