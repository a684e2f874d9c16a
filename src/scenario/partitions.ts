/**
 * `partitions` (and `--partitions`): how many ordering domains a run's messages are spread
 * over, the same meaning on every system (src/core/partitions.ts says which message goes
 * where). Systems that cannot partition yet refuse more than 1 in their checkRun.
 */
import { integer } from '../core/options.ts';
import { MAX_PARTITIONS } from '../core/partitions.ts';

/** The scenario field; absent = 1 (one ordering domain: the run's stream or topic). */
export function partitionsField(file: string, v: unknown): number {
  if (v === undefined) return 1;
  return integer(file, 'partitions', v, { min: 1, max: MAX_PARTITIONS });
}

