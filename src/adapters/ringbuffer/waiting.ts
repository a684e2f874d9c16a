/**
 * What a side of a lane does while the other side has not caught up: a consumer with
 * nothing to read, a producer with no room to write.
 *
 *   spin   busy-polls. Lowest latency; burns its core for as long as it waits, so it only
 *          suits runs with a core per thread.
 *   yield  polls briefly, then naps with a short Atomics.wait timeout on a private word.
 *          Nobody has to wake it, but Node's shortest timed wait is ~0.1 ms here (asking
 *          for 20 µs sleeps 90-120 µs), which is added to the latency of whatever
 *          arrives during the nap.
 *   block  spins briefly, then announces itself in a "parked" word and sleeps in
 *          Atomics.wait until the other side notifies (a consumer with several lanes
 *          sleeps on its doorbell). The spin adapts between SPIN_MIN_NS and SPIN_MAX_NS:
 *          it doubles after a wait that ended within SPIN_MAX_NS and halves after a
 *          longer one. A side under load (waits of tens of µs) spins and never pays a
 *          wake-up; one at a modest fixed rate (waits of hundreds of µs) parks almost at
 *          once and leaves the cores to the other threads. The other side pays one
 *          Atomics.load per publish to see whether anyone is parked, and a notify only
 *          when someone is. This is the default.
 *
 * Every mode re-checks `control.stopping()` at least every PARK_SLICE_MS, so a
 * wind-down never waits on a sleeper, and honours a deadline (receive's maxWaitMs).
 */
import { monoNs } from '../../core/clock.ts';
import { spinPause } from '../../core/spin.ts';
import type { RunControl } from '../../core/contract.ts';

export const WAIT_MODES = ['spin', 'yield', 'block'] as const;
export type WaitMode = (typeof WAIT_MODES)[number];

/**
 * Longest spin of mode block: above the gap between two batches of a busy producer
 * (stamping 128 messages takes ~50 µs in a worker here), so a loaded consumer does not
 * park. Waits longer than this are not worth spinning for: a wake-up costs far less.
 */
export const SPIN_MAX_NS = 100_000;
/** Shortest spin: a few rounds of polls, enough for a writer that is mid-publish. */
export const SPIN_MIN_NS = 2_000;
/** Longest sleep before re-checking stop and deadline. */
export const PARK_SLICE_MS = 5;
const YIELD_NAP_MS = 0.02;
/**
 * Polls between two clock reads (a read costs ~60-100 ns, a poll a few ns plus a pause).
 * While the clock allocated (a BigInt per read, before clock.ts read performance.now()),
 * a spinning side that read it often filled its young generation and paused for a
 * scavenge dozens of times a second.
 */
const POLLS_PER_CHECK = 64;

/** A condition one side waits for, and the word the other side notifies when it may hold. */
export interface Parking {
  /** true when the awaited condition holds (something to read, room to write) */
  ready(): boolean;
  /**
   * Announces the sleeper to the other side and returns the value `word[index]` must
   * still hold for the sleep to start. Read that value before announcing: a change after
   * the read then either cancels the sleep or comes with a notify.
   */
  arm(): number;
  disarm(): void;
  readonly word: Int32Array;
  readonly index: number;
}

export interface WaitStats {
  /** Atomics.wait calls of mode block */
  parks: number;
  /** parks that ended by timeout: with a slice far longer than the wait, a lost wake-up */
  timeouts: number;
  /** time spent in until(): what this side waited for the other, spin and park alike */
  waitedNs: number;
}

export class Waiter {
  readonly stats: WaitStats = { parks: 0, timeouts: 0, waitedNs: 0 };
  private readonly nap = new Int32Array(new SharedArrayBuffer(4));
  /** mode block's current spin before parking */
  private spinNs = SPIN_MIN_NS;

  constructor(
    readonly mode: WaitMode,
    private readonly control: RunControl,
    /** longest sleep before re-checking stop and deadline; tests lengthen it to expose lost wake-ups */
    private readonly sliceMs = PARK_SLICE_MS,
  ) {}

  /**
   * Waits until `p.ready()`, the run stops, or the clock reaches `untilNs`
   * (Infinity: no deadline). Returns whether the condition holds.
   */
  until(p: Parking, untilNs: number): boolean {
    const t0 = monoNs();
    const block = this.mode === 'block';
    const ok = this.poll(p, untilNs, block ? t0 + this.spinNs : this.mode === 'spin' ? Number.POSITIVE_INFINITY : 0);
    const waitedNs = monoNs() - t0;
    this.stats.waitedNs += waitedNs;
    if (block) this.spinNs = waitedNs <= SPIN_MAX_NS ? Math.min(SPIN_MAX_NS, this.spinNs * 2) : Math.max(SPIN_MIN_NS, this.spinNs / 2);
    return ok;
  }

  private poll(p: Parking, untilNs: number, spinEndNs: number): boolean {
    for (;;) {
      for (let i = 0; i < POLLS_PER_CHECK; i++) {
        if (p.ready()) return true;
        spinPause();
      }
      if (this.control.stopping()) return false;
      const now = monoNs();
      if (now >= untilNs) return p.ready();
      if (now < spinEndNs) continue;
      const sliceMs = Math.min(this.sliceMs, (untilNs - now) / 1e6);
      if (this.mode === 'yield') {
        Atomics.wait(this.nap, 0, 0, Math.min(YIELD_NAP_MS, sliceMs));
        continue;
      }
      const expected = p.arm();
      if (!p.ready()) {
        this.stats.parks++;
        if (Atomics.wait(p.word, p.index, expected, sliceMs) === 'timed-out') this.stats.timeouts++;
      }
      p.disarm();
    }
  }
}
