/**
 * Injects the scenario's fault into a running system: at a set time into the measured
 * phase, kill -9 the broker, leave it down for a while, restart it on the same data.
 * Workers notice the fault through the control block and time their own recovery.
 */
import { monoNs } from '../core/clock.ts';
import type { SystemSession } from '../core/contract.ts';
import type { Control } from './control.ts';

export interface FaultPlan {
  /** ms after the measured phase starts */
  atMs: number;
  /** ms the broker stays down before the restart begins */
  downtimeMs: number;
}

export interface FaultRecord {
  /** what was injected, in the system's own words, or why nothing was */
  fault: string;
  injected: boolean;
  killNs: number;
  /** the restart finished (broker ready again) */
  restartedNs: number;
  error?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export async function injectFault(session: SystemSession, control: Control, plan: FaultPlan, measureStartNs: number, log: (l: string) => void): Promise<FaultRecord> {
  const faults = session.faults;
  if (!faults) return { fault: 'none: this system offers no fault injection', injected: false, killNs: 0, restartedNs: 0 };
  await sleep((measureStartNs + plan.atMs * 1e6 - monoNs()) / 1e6);
  if (control.stopping()) return { fault: faults.fault, injected: false, killNs: 0, restartedNs: 0, error: 'run stopped before the fault' };
  let killNs = monoNs();
  try {
    log(`fault: ${faults.fault}`);
    await faults.kill();
    // Recovery is timed from the moment the process is gone: a message acked while the
    // signal was on its way would otherwise count as service restored.
    killNs = monoNs();
    control.markFault(killNs);
    await sleep(plan.downtimeMs);
    log('fault: restarting on the same data');
    await faults.restart();
    return { fault: faults.fault, injected: true, killNs, restartedNs: monoNs() };
  } catch (err) {
    return { fault: faults.fault, injected: true, killNs, restartedNs: 0, error: (err as Error).message };
  }
}
