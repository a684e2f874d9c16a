/**
 * `fault: {kill: <target>}`: which processes a kill takes, or which nodes a power loss
 * cuts (core/fault-target.ts has the names). Only the form is checked here; whether the
 * system runs that node, and can cut the power of one node alone, is its checkRun's to
 * say, before anything starts.
 */
import type { FaultTarget } from '../core/contract.ts';
import { ConfigError } from '../core/errors.ts';
import { TARGET_FORMS, targetFromText } from '../core/fault-target.ts';

export function killTarget(file: string, v: unknown): FaultTarget {
  const target = targetFromText(v);
  if (target === undefined) throw new ConfigError(file, 'fault.kill', TARGET_FORMS, v);
  return target;
}
