/**
 * What the main thread hands every worker (structured-cloned): the shared memory of all
 * lanes and doorbells, and the options that shape how it is read.
 */
import type { Cloneable } from '../../core/contract.ts';
import { WAIT_MODES, type WaitMode } from './waiting.ts';

export interface RingInit {
  /** one SPSC lane per producer, indexed by producer id */
  lanes: SharedArrayBuffer[];
  /** one wake-up word per consumer (layout.ts) */
  doorbells: SharedArrayBuffer;
  consumers: number;
  padded: boolean;
  wait: WaitMode;
}

export function toCloneable(init: RingInit): Cloneable {
  return { lanes: init.lanes, doorbells: init.doorbells, consumers: init.consumers, padded: init.padded, wait: init.wait };
}

/** Checks the shape, so a wrong init fails with a clear message rather than deep in the hot path. */
export function fromCloneable(raw: Cloneable): RingInit {
  const r = raw as Partial<Record<keyof RingInit, unknown>> | null;
  const ok =
    typeof r === 'object' &&
    r !== null &&
    Array.isArray(r.lanes) &&
    r.lanes.every((l) => l instanceof SharedArrayBuffer) &&
    r.doorbells instanceof SharedArrayBuffer &&
    typeof r.consumers === 'number' &&
    typeof r.padded === 'boolean' &&
    typeof r.wait === 'string' &&
    (WAIT_MODES as readonly string[]).includes(r.wait);
  if (!ok) throw new Error('ringbuffer: worker init is not the one the ringbuffer adapter created');
  return r as RingInit;
}

/** The lanes consumer `consumerId` serves: lane % consumers === consumerId. */
export function lanesOf(consumerId: number, consumers: number, lanes: number): number[] {
  const out: number[] = [];
  for (let l = consumerId; l < lanes; l += consumers) out.push(l);
  return out;
}
