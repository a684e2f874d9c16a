/**
 * Injects the scenario's fault into a running system: at a set time into the measured
 * phase, kill -9 the broker (or cut its power: kill -9, then the filesystem layer under
 * its data drops what no fsync covered), leave it down for a while, restart it on what is
 * left. Workers notice the fault through the control block and time their own recovery.
 *
 * Every wait is bounded: the layer's write-back before the fault (SETTLE_BOUND_MS), and
 * the restart, which the run waits for at most `restartWaitMs` once its drain is over
 * (FaultRun.settled). A cluster that never comes back (nine JVMs restarting for minutes,
 * a bookie that never registers) then gives a result that says so instead of holding
 * the run, and the lock it runs under, until the deployment's own start deadline.
 */
import { monoNs } from '../core/clock.ts';
import type { FaultInjector, PowerCut, SystemSession } from '../core/contract.ts';
import type { FaultOutcome } from '../checks/durability.ts';
import type { FaultPlan } from '../scenario/scenario.ts';
import type { Control } from './control.ts';
import { withTimeout } from './run-workers.ts';

export type FaultRecord = FaultOutcome;

/** fault.restartWait's default: a standalone restarts in seconds; a cluster that takes longer says so in its result. */
export const DEFAULT_RESTART_WAIT_MS = 30_000;

/** The layer's write-back of what the broker wrote while starting: seconds at most on a sane machine. */
export const SETTLE_BOUND_MS = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

/** The fault's own step: kill -9, or the power cut, which returns what the layer dropped. */
async function strike(faults: FaultInjector, plan: FaultPlan): Promise<PowerCut | undefined> {
  if (plan.kind.type === 'kill') {
    await faults.kill(plan.kind.target);
    return undefined;
  }
  if (!faults.powerLoss) throw new Error(`${faults.fault}: this session offers no power-loss fault (its data is not on the power-loss layer)`);
  return faults.powerLoss(plan.kind.mode);
}

/** A fault under way: its record once the restart is done, and the record so far before that. */
export class FaultRun {
  /** struck and not yet restarted: what the run reports if the restart outlasts its wait */
  private sofar: FaultRecord;
  readonly done: Promise<FaultRecord>;

  constructor(session: SystemSession, control: Control, plan: FaultPlan, measureStartNs: number, log: (l: string) => void) {
    const fault = session.faults?.fault ?? 'none: this system offers no fault injection';
    this.sofar = { fault, kind: plan.kind, injected: false, killNs: 0, restartedNs: 0 };
    this.done = this.run(session.faults, control, plan, measureStartNs, log);
  }

  /**
   * The record once the restart finished, waiting at most `boundMs` from now (the run
   * calls it once its drain is over); past that, the record so far, with why it is not
   * done. The restart may go on: the session's close stops whatever it started.
   */
  async settled(boundMs: number): Promise<FaultRecord> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), boundMs)));
    const record = await Promise.race([this.done, late]).finally(() => clearTimeout(timer));
    if (record) return record;
    const waited = this.sofar.injected ? `the restart had not finished ${seconds(boundMs)} after the drain (fault.restartWait)` : `the fault had not been injected ${seconds(boundMs)} after the drain`;
    return { ...this.sofar, error: waited };
  }

  private async run(faults: FaultInjector | undefined, control: Control, plan: FaultPlan, measureStartNs: number, log: (l: string) => void): Promise<FaultRecord> {
    const kind = plan.kind;
    if (!faults) return this.sofar;
    if (kind.type === 'power-loss' && faults.settle) {
      const written = await withTimeout(faults.settle(), SETTLE_BOUND_MS, "the power-loss layer's write-back before the fault").then(() => undefined, (err: Error) => err.message);
      if (written) return { ...this.sofar, error: written };
    }
    await sleep((measureStartNs + plan.atMs * 1e6 - monoNs()) / 1e6);
    if (control.stopping()) return { ...this.sofar, error: 'run stopped before the fault' };
    let cut: PowerCut | undefined;
    this.sofar = { ...this.sofar, injected: true, killNs: monoNs() };
    try {
      log(`fault: ${faults.fault}`);
      cut = await strike(faults, plan);
      // Recovery is timed from the moment the process is gone: a message acked while the
      // signal was on its way would otherwise count as service restored.
      this.sofar = { ...this.sofar, killNs: monoNs(), ...(cut ? { cut } : {}) };
      control.markFault(this.sofar.killNs);
      if (cut) log(`fault: the power-loss layer dropped ${cut.bytesDropped} unsynced bytes in ${cut.filesAffected} files (${cut.mode})`);
      await sleep(plan.downtimeMs);
      log(`fault: restarting on ${cut ? 'what the power loss left' : 'the same data'}`);
      await faults.restart();
      return { ...this.sofar, restartedNs: monoNs() };
    } catch (err) {
      return { ...this.sofar, error: (err as Error).message };
    }
  }
}

export function injectFault(session: SystemSession, control: Control, plan: FaultPlan, measureStartNs: number, log: (l: string) => void): FaultRun {
  return new FaultRun(session, control, plan, measureStartNs, log);
}
