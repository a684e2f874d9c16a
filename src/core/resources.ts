/**
 * What a run costs: CPU time and peak memory of busbench itself and of every broker
 * process the harness started, over one run (not the process lifetime).
 *
 * busbench: process.cpuUsage() covers the main thread and every worker (threads of one
 * process); its peak RSS is the maximum of samples taken at each progress tick, and, where
 * Linux allows resetting the high-water mark (/proc/self/clear_refs), VmHWM since the run
 * started, which also sees peaks between ticks.
 * Brokers: utime+stime from /proc/<pid>/stat and VmHWM from /proc/<pid>/status, for each
 * process and its descendants. A broker killed during the run (fault injection) counts up
 * to its last sample; its replacement counts from 0, as it started during the run.
 */
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { ProcessResources, RunResources } from './result.ts';

export interface NamedProcess {
  name: string;
  pid: number;
}

let ticksPerSec: number | undefined;
const MIN_SAMPLE_GAP_NS = 250_000_000n;

/** clock ticks per second of /proc/<pid>/stat times (CLK_TCK; 100 on Linux) */
export function clockTicksPerSec(): number {
  if (ticksPerSec === undefined) {
    try {
      ticksPerSec = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSec = 100;
    }
  }
  return ticksPerSec;
}

/** The fields of /proc/<pid>/stat from field 3 (state) on, undefined if the process is gone. */
function statFields(pid: number): string[] | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU seconds (user + system) a live process used so far, undefined if it is gone. */
export function processCpuSec(pid: number): number | undefined {
  const f = statFields(pid);
  // f[0] is field 3 (state); utime and stime are fields 14 and 15
  return f && (Number(f[11]) + Number(f[12])) / clockTicksPerSec();
}

/**
 * CPU seconds (user + system) of the children a live process has waited for (cutime and
 * cstime, fields 16 and 17: each child's own and that of the children it waited for in
 * turn), undefined if it is gone. What a child run to its end cost, after it ended.
 */
export function waitedChildrenCpuSec(pid: number): number | undefined {
  const f = statFields(pid);
  return f && (Number(f[13]) + Number(f[14])) / clockTicksPerSec();
}

/** VmHWM (peak resident set) of a live process in bytes, undefined if it is gone. */
export function processPeakRssBytes(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The pid and all its descendants (children lists of every thread, recursively). */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    out.push(p);
    let tasks: string[] = [];
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        for (const c of fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').split(' ')) if (c.trim()) queue.push(Number(c));
      } catch {
        // thread gone, or a kernel without children lists: the pid itself still counts
      }
    }
  }
  return out;
}

interface Tracked {
  name: string;
  /** the pid named by the session; descendants are added to its entry */
  root: number;
  firstCpu: number;
  lastCpu: number;
  peakRss: number;
}

interface Mark {
  busbenchCpuSec: number;
  brokerCpuSec: number;
}

/** Resets busbench's VmHWM to its current RSS; false where the kernel refuses. */
function resetOwnPeak(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

export class ResourceMeter {
  private readonly tracked = new Map<number, Tracked>();
  private readonly cpuStart = process.cpuUsage();
  private peakRss = process.memoryUsage.rss();
  private readonly hwmReset = resetOwnPeak();
  private windowStart: Mark | undefined;
  private windowEnd: Mark | undefined;
  private started = false;
  private lastSampleNs = 0n;

  /** @param processes the broker processes now (they change across a kill and restart); undefined: not measurable */
  constructor(private readonly processes: (() => NamedProcess[]) | undefined) {
    this.sample();
    this.started = true;
  }

  /**
   * Reads every process once; call often enough that a killed broker's last reading is
   * recent. Unless forced, at most every 250 ms: a JVM has hundreds of threads
   * to look through for children, and short intervals tick often.
   */
  sample(force = false): void {
    this.peakRss = Math.max(this.peakRss, process.memoryUsage.rss());
    const now = process.hrtime.bigint();
    if (!force && now - this.lastSampleNs < MIN_SAMPLE_GAP_NS) return;
    this.lastSampleNs = now;
    for (const { name, pid } of this.processes?.() ?? []) {
      for (const p of processTree(pid)) {
        const cpu = processCpuSec(p);
        if (cpu === undefined) continue;
        let t = this.tracked.get(p);
        if (!t) this.tracked.set(p, (t = { name, root: pid, firstCpu: this.started ? 0 : cpu, lastCpu: cpu, peakRss: 0 }));
        t.lastCpu = cpu;
        t.peakRss = Math.max(t.peakRss, processPeakRssBytes(p) ?? 0);
      }
    }
  }

  markWindowStart(): void {
    this.windowStart ??= this.mark();
  }

  markWindowEnd(): void {
    if (this.windowStart) this.windowEnd ??= this.mark();
  }

  /** @param windowMessages messages received in the measured window */
  result(windowMessages: number): RunResources {
    this.sample(true);
    this.markWindowEnd();
    const busbench = { cpuSec: round3(cpuSecSince(this.cpuStart)), peakRssBytes: this.ownPeak() };
    const brokers = this.processes ? this.brokerEntries() : 'not measured';
    const w = this.windowStart && this.windowEnd ? { cpuSec: round3(this.windowEnd.busbenchCpuSec - this.windowStart.busbenchCpuSec + (this.processes ? this.windowEnd.brokerCpuSec - this.windowStart.brokerCpuSec : 0)), messages: windowMessages } : undefined;
    return {
      busbench,
      brokers,
      ...(w ? { window: w } : {}),
      cpuSecPerMillion: w && windowMessages > 0 ? round3((w.cpuSec / windowMessages) * 1e6) : null,
    };
  }

  private mark(): Mark {
    this.sample(true);
    let broker = 0;
    for (const t of this.tracked.values()) broker += t.lastCpu - t.firstCpu;
    return { busbenchCpuSec: cpuSecSince(this.cpuStart), brokerCpuSec: broker };
  }

  private ownPeak(): number {
    this.peakRss = Math.max(this.peakRss, process.memoryUsage.rss());
    const hwm = this.hwmReset ? (processPeakRssBytes(process.pid) ?? 0) : 0;
    return Math.max(this.peakRss, hwm);
  }

  /** One entry per named process; its descendants' CPU is added, their peaks summed. */
  private brokerEntries(): ProcessResources[] {
    const byRoot = new Map<string, ProcessResources>();
    for (const [pid, t] of this.tracked) {
      const key = `${t.name}\u0000${t.root}`;
      const e = byRoot.get(key) ?? { name: t.name, pid: t.root, cpuSec: 0, peakRssBytes: 0, descendants: 0 };
      e.cpuSec += t.lastCpu - t.firstCpu;
      e.peakRssBytes += t.peakRss;
      e.descendants = (e.descendants ?? 0) + (pid === t.root ? 0 : 1);
      byRoot.set(key, e);
    }
    return [...byRoot.values()].map((e) => ({ ...e, cpuSec: round3(e.cpuSec) }));
  }
}

/**
 * busbench's peak plus each broker's: a name's processes never run side by side (a
 * restart replaces one), so a name counts with its largest peak. An upper bound, as the
 * peaks need not coincide.
 */
export function totalPeakRssBytes(r: RunResources): number {
  const byName = new Map<string, number>();
  for (const b of r.brokers === 'not measured' ? [] : r.brokers) byName.set(b.name, Math.max(byName.get(b.name) ?? 0, b.peakRssBytes));
  let total = r.busbench.peakRssBytes;
  for (const v of byName.values()) total += v;
  return total;
}

function cpuSecSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
