/**
 * A broker's data folder on the power-loss layer (src/brokers/powerfs): the files live in
 * `<dir>.backing`, the broker reads and writes them through a mount at `<dir>`, and a
 * power cut makes every file go back to what its last fsync covered. What a deployment
 * needs of it is three steps: mount before the first start, cut after every broker
 * process is dead (and mount again, as a machine that comes back up), unmount at the end.
 */
import fs from 'node:fs';
import type { OpenContext, PowerCut, PowerLossMode, RunShape } from '../../core/contract.ts';
import { ConfigError } from '../../core/errors.ts';
import { PowerFs, fuseProblem } from '../powerfs/index.ts';

/** How a broker's data goes on the layer. */
export interface LayerOptions {
  /** the kernel's FUSE write-back cache (PowerFs MountOptions.writeback) */
  writeback: boolean;
}

export class LossyDataDir {
  private layer: PowerFs | undefined;

  constructor(
    readonly dir: string,
    private readonly options: LayerOptions,
    private readonly log?: (line: string) => void,
  ) {}

  get backing(): string {
    return `${this.dir}.backing`;
  }

  async mount(): Promise<void> {
    if (this.layer) return;
    fs.mkdirSync(this.dir, { recursive: true });
    fs.mkdirSync(this.backing, { recursive: true });
    this.layer = await PowerFs.mount({ backing: this.backing, mountpoint: this.dir, writeback: this.options.writeback, ...(this.log ? { log: this.log } : {}) });
  }

  /** Everything written so far is written back, as the kernel does within ~30 s. */
  async settle(): Promise<void> {
    if (!this.layer) throw new Error(`power loss: ${this.dir} is not on the power-loss layer`);
    await this.layer.sync();
  }

  /** What the broker made the layer do since the last mount: the layer's own cost, counted. */
  async stats(): Promise<Record<string, number>> {
    if (!this.layer) return {};
    const s = await this.layer.stats();
    return { layerWrites: s.writes, layerBytesWritten: s.bytesWritten, layerFsyncs: s.fsyncs };
  }

  /** The power cut; call it once every process that wrote here is dead. */
  async cut(mode: PowerLossMode): Promise<PowerCut> {
    if (!this.layer) throw new Error(`power loss: ${this.dir} is not on the power-loss layer`);
    const cut = await this.layer.cut(mode);
    await this.layer.remount();
    return cut;
  }

  /**
   * A clean shutdown: what the layer still holds is written back, as an OS does, and the
   * files move back to `<dir>`, so the run folder looks as it does without the layer (the
   * harness's clean-up and the journal check find them where they always are).
   */
  async unmount(): Promise<void> {
    const layer = this.layer;
    if (!layer) return;
    this.layer = undefined;
    await layer.unmount();
    // rmdir, never a recursive delete: were the mount still there, that would go through it
    fs.rmdirSync(this.dir);
    fs.renameSync(this.backing, this.dir);
  }
}

/**
 * Several data folders on layers of their own, cut together: the nodes of a cluster that
 * lose power while the others, on plain disk, run on (one machine of three failing).
 * `name` labels a folder's torn files in the cut, e.g. "bookie-1/journal/current/x.txn".
 */
export class LossyDataDirs {
  constructor(private readonly dirs: ReadonlyArray<{ name: string; dir: LossyDataDir }>) {}

  describe(): string {
    return this.dirs.map((d) => d.dir.backing).join(', ');
  }

  async mount(): Promise<void> {
    for (const d of this.dirs) await d.dir.mount();
  }

  async settle(): Promise<void> {
    await Promise.all(this.dirs.map((d) => d.dir.settle()));
  }

  async stats(): Promise<Record<string, number>> {
    const sum: Record<string, number> = {};
    for (const d of this.dirs) for (const [k, v] of Object.entries(await d.dir.stats())) sum[k] = (sum[k] ?? 0) + v;
    return sum;
  }

  async cut(mode: PowerLossMode): Promise<PowerCut> {
    const cuts = await Promise.all(this.dirs.map(async (d) => ({ name: d.name, cut: await d.dir.cut(mode) })));
    return {
      mode,
      bytesDropped: cuts.reduce((n, c) => n + c.cut.bytesDropped, 0),
      filesAffected: cuts.reduce((n, c) => n + c.cut.filesAffected, 0),
      tornFiles: cuts.flatMap((c) => c.cut.tornFiles.map((f) => (c.name ? `${c.name}/${f.replace(/^\//, '')}` : f))),
    };
  }

  /** Every folder, even when one fails: a mount left behind outlives the run. */
  async unmount(): Promise<void> {
    const failed = (await Promise.allSettled(this.dirs.map((d) => d.dir.unmount()))).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/**
 * How the session puts its broker's data on the power-loss layer, or undefined when it
 * does not. The kernel's write-back cache is on (the layer costs a fraction of it off),
 * except for a torn cut: that tears the broker's own last write, and with the cache the
 * layer would see the kernel's page write-backs instead (PowerFs MountOptions.writeback).
 */
export function powerLossLayer(ctx: Pick<OpenContext, 'fault' | 'powerLossLayer'>): LayerOptions | undefined {
  if (ctx.fault?.type === 'power-loss') return { writeback: ctx.fault.mode !== 'torn' };
  return ctx.powerLossLayer === true ? { writeback: true } : undefined;
}

/**
 * Refuses a power-loss fault where busbench cannot cut the power: brokers it does not run
 * itself, or a machine without FUSE. Every adapter's checkRun asks, so the refusal is one
 * line and exit 2 before anything starts.
 */
export function refusePowerLoss(run: RunShape, where: string): void {
  if (run.fault?.type !== 'power-loss') return;
  if (run.brokers !== 'native') {
    throw new ConfigError(where, 'fault.type', `"kill" with --brokers ${run.brokers} (busbench cuts the power only of brokers it runs itself, --brokers native)`, 'power-loss');
  }
  const why = fuseProblem();
  if (why) throw new ConfigError(where, 'fault.type', `"kill" on this machine (${why})`, 'power-loss');
}
