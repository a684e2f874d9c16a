/**
 * Busy-wait helpers for the few loops that must not sleep (a sleep overshoots by more
 * than the wait itself, see the producer loop and the ring's wait modes).
 *
 * Atomics.pause (Node 24; not in Node 22, which package.json's engines still allows)
 * tells the CPU that this is a spin loop (x86 PAUSE): the sibling hyperthread and the
 * hypervisor get the pipeline meanwhile, and leaving the loop does not flush it. Where
 * it is missing, a spin is a plain poll.
 */
type PausingAtomics = typeof Atomics & { pause?: (iterations?: number) => void };

/** BUSBENCH_ATOMICS_PAUSE=off leaves it out, to measure what it changes (bench/ring-perf.ts prints which). */
export const HAS_ATOMICS_PAUSE = typeof (Atomics as PausingAtomics).pause === 'function' && process.env.BUSBENCH_ATOMICS_PAUSE !== 'off';

/** One spin-loop hint; nothing where the engine has none. */
export function spinPause(): void {
  if (HAS_ATOMICS_PAUSE) (Atomics as Required<PausingAtomics>).pause();
}
