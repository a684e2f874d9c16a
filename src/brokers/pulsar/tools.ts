/**
 * The distribution's own JVM clients, `bin/pulsar-perf` and `bin/pulsar-client`, run
 * against a broker busbench started: for calibration (bench/pulsar-perf.ts) and for the
 * interop tests with Apache's client. Each run is a registered child (killed with the
 * harness, reaped if the harness dies), in its own process group, with the JDK the broker
 * runs on and its output in a log file of the caller's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BrokerError } from '../../core/errors.ts';
import { spawnBroker, type BrokerProcess } from '../common/processes.ts';
import type { PulsarInstall } from './install.ts';

export type PulsarTool = 'pulsar-perf' | 'pulsar-client';

export interface ToolRun {
  proc: BrokerProcess;
  tool: PulsarTool;
  logFile: string;
  startedAt: number;
}

/**
 * Starts `bin/<tool> <args>`. The broker's JVM settings (PULSAR_MEM, PULSAR_GC) are not
 * passed on: a tool runs with the distribution's own defaults for it (pulsar-perf reads
 * conf/pulsar_env.sh, pulsar-client conf/pulsar_tools_env.sh), as a user running it would.
 * Its log4j files go next to `logFile`, not into the cache.
 */
export function startPulsarTool(install: PulsarInstall, tool: PulsarTool, args: string[], logFile: string): ToolRun {
  const env: NodeJS.ProcessEnv = { ...process.env, JAVA_HOME: install.javaHome, PULSAR_LOG_DIR: path.dirname(logFile) };
  for (const k of ['PULSAR_MEM', 'PULSAR_GC', 'PULSAR_EXTRA_OPTS', 'PULSAR_CLIENT_CONF']) delete env[k];
  const proc = spawnBroker({ name: tool, command: path.join(install.home, 'bin', tool), args, cwd: install.home, env, logFile });
  return { proc, tool, logFile, startedAt: Date.now() };
}

/** The tool's output so far. */
export function toolOutput(run: ToolRun): string {
  try {
    return fs.readFileSync(run.logFile, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Waits for the tool to exit and returns its output. Past `timeoutMs` (from its start) it
 * is killed and this throws, as it does for a nonzero exit: with the last lines it wrote.
 */
export async function finishPulsarTool(run: ToolRun, timeoutMs: number): Promise<string> {
  const left = Math.max(0, run.startedAt + timeoutMs - Date.now());
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), left)));
  const code = await Promise.race([run.proc.exited, timedOut]);
  clearTimeout(timer);
  if (code === 'timeout') {
    await run.proc.kill9();
    throw new BrokerError(`${run.tool}: no exit within ${Math.round(timeoutMs / 1000)} s (killed)`, run.proc.logTail(30));
  }
  if (code !== 0) throw new BrokerError(`${run.tool}: exited with ${code === null ? 'a signal' : `code ${code}`}`, run.proc.logTail(30));
  return toolOutput(run);
}

/** Kills the tool if it still runs (cleanup after a failure elsewhere). */
export async function killPulsarTool(run: ToolRun | undefined): Promise<void> {
  await run?.proc.kill9();
}
