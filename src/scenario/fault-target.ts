/**
 * `fault: {kill: <target>}`: which processes a kill takes (core/fault-target.ts has the
 * names). Only the form is checked here; whether the system runs that node is its
 * checkRun's to say, before anything starts.
 */
import type { FaultTarget } from '../core/contract.ts';
import { ConfigError } from '../core/errors.ts';
import { TARGET_FORMS, targetFromText } from '../core/fault-target.ts';

export function killTarget(file: string, type: 'kill' | 'power-loss', v: unknown): FaultTarget {
  // a power cut takes the machine, so every node on it: there is no one-node power loss
  if (type !== 'kill') throw new ConfigError(file, 'fault.kill', 'no kill target with fault.type power-loss (a power cut takes every node)', v);
  const target = targetFromText(v);
  if (target === undefined) throw new ConfigError(file, 'fault.kill', TARGET_FORMS, v);
  return target;
}
