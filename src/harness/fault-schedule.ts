/**
 * Injects the scenario's fault into a running system: at a set time into the measured
 * phase, kill -9 the broker (or cut its power: kill -9, then the filesystem layer under
 * its data drops what no fsync covered), leave it down for a while, restart it on what is
 * left. Workers notice the fault through the control block and time their own recovery.
 */
import { monoNs } from '../core/clock.ts';
import type { FaultInjector, PowerCut, SystemSession } from '../core/contract.ts';
import type { FaultOutcome } from '../checks/durability.ts';
import type { FaultPlan } from '../scenario/scenario.ts';
import type { Control } from './control.ts';

export type FaultRecord = FaultOutcome;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** The fault's own step: kill -9, or the power cut, which returns what the layer dropped. */
async function strike(faults: FaultInjector, plan: FaultPlan): Promise<PowerCut | undefined> {
  if (plan.kind.type === 'kill') {
    await faults.kill(plan.kind.target);
    return undefined;
  }
  if (!faults.powerLoss) throw new Error(`${faults.fault}: this session offers no power-loss fault (its data is not on the power-loss layer)`);
  return faults.powerLoss(plan.kind.mode);
}

export async function injectFault(session: SystemSession, control: Control, plan: FaultPlan, measureStartNs: number, log: (l: string) => void): Promise<FaultRecord> {
  const kind = plan.kind;
  const faults = session.faults;
  if (!faults) return { fault: 'none: this system offers no fault injection', kind, injected: false, killNs: 0, restartedNs: 0 };
  if (kind.type === 'power-loss') await faults.settle?.();
  await sleep((measureStartNs + plan.atMs * 1e6 - monoNs()) / 1e6);
  if (control.stopping()) return { fault: faults.fault, kind, injected: false, killNs: 0, restartedNs: 0, error: 'run stopped before the fault' };
  let killNs = monoNs();
  let cut: PowerCut | undefined;
  try {
    log(`fault: ${faults.fault}`);
    cut = await strike(faults, plan);
    // Recovery is timed from the moment the process is gone: a message acked while the
    // signal was on its way would otherwise count as service restored.
    killNs = monoNs();
    control.markFault(killNs);
    if (cut) log(`fault: the power-loss layer dropped ${cut.bytesDropped} unsynced bytes in ${cut.filesAffected} files (${cut.mode})`);
    await sleep(plan.downtimeMs);
    log(`fault: restarting on ${cut ? 'what the power loss left' : 'the same data'}`);
    await faults.restart();
    return { fault: faults.fault, kind, injected: true, killNs, restartedNs: monoNs(), ...(cut ? { cut } : {}) };
  } catch (err) {
    return { fault: faults.fault, kind, injected: true, killNs, restartedNs: 0, ...(cut ? { cut } : {}), error: (err as Error).message };
  }
}
