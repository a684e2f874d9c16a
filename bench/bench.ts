/**
 * npm run bench -- --scenario <name> [flags]
 *
 * Validates everything first (bad input: one line, exit 2, nothing written), then runs
 * the scenario system by system, prints the comparison table and writes the result files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadAdapter, requireBrokerUrls, systemNames } from '../src/adapters/registry.ts';
import type { SharedBroker, SystemAdapter } from '../src/core/contract.ts';
import { BusbenchError, UsageError, exitCodeFor } from '../src/core/errors.ts';
import { killAllBrokersSync, reapOrphans } from '../src/brokers/common/processes.ts';
import { applyFlags, helpText, parseFlags, type BenchFlags } from '../src/scenario/flags.ts';
import { checkSystems, loadScenario, scenarioNames, type Scenario } from '../src/scenario/scenario.ts';
import { checkShardable, shardScenario } from '../src/scenario/shard.ts';
import { summarizeCells } from '../src/scenario/matrix.ts';
import { planCells, runScenario, type PlannedCell, type ScenarioRun } from '../src/harness/run-scenario.ts';
import { killShardsSync, runLocalShards, sharedBrokerArgv, stopWithParent } from '../src/harness/local-shards.ts';
import { mergeShards } from '../src/checks/merge/index.ts';
import { ProgressLine, summaryTable } from '../src/report/render/console.ts';
import { timestampForFile, uniqueBase, writeResultFiles } from '../src/report/io/files.ts';
import { loadShardInputs, writeMergedFiles } from '../src/report/io/shard-files.ts';
import type { RunResult } from '../src/core/result.ts';

let receivedSignal: NodeJS.Signals | undefined;

async function main(argv: string[]): Promise<number> {
  const known = await systemNames();
  const flags = parseFlags(argv, known);
  if (flags.help) {
    const scenarios = scenarioNames().map((name) => {
      try {
        return { name, description: loadScenario(name, known).description };
      } catch (err) {
        return { name, description: `(invalid: ${(err as Error).message})` };
      }
    });
    process.stdout.write(helpText(scenarios, known) + '\n');
    return 0;
  }
  if (!flags.scenario) throw new UsageError(`--scenario is required; valid: ${scenarioNames().join(', ')}`);
  const whole = applyFlags(loadScenario(flags.scenario, known), flags);
  checkSystems(whole, known);
  const shard = shardOf(flags, whole);
  const scenario = shard ? shardScenario(whole, shard.run.count) : whole;

  // Validate every system's options, in every matrix cell, before anything starts.
  const adapters = new Map<string, SystemAdapter>();
  const cells = new Map<string, PlannedCell[]>();
  for (const system of scenario.systems) {
    const adapter = await loadAdapter(system);
    adapters.set(system, adapter);
    cells.set(system, planCells(system, adapter, scenario, flags.brokers));
  }
  requireBrokerUrls(adapters.values(), flags.brokers, flags.urls);

  if (flags.processes) return runProcesses(flags, argv, whole, sharedBrokerOf(flags, adapters, cells));
  for (const r of reapOrphans()) process.stderr.write(`busbench: stopped a broker left by an earlier run: ${r}\n`);

  const aborter = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupts++;
    receivedSignal = sig;
    if (interrupts > 1) {
      killShardsSync();
      killAllBrokersSync();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    process.stderr.write(`\nbusbench: ${sig}: stopping the run and its brokers (again to force)\n`);
    aborter.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // a shard of --processes: its parent gone, it stops as on SIGTERM
  if (shard) stopWithParent(() => onSignal('SIGTERM'));

  const stamp = timestampForFile(new Date());
  fs.mkdirSync(flags.out, { recursive: true });
  // the shard in the name: its runs' streams are named after it, and shards share the broker
  const base = uniqueBase(flags.out, stamp, shard ? `${scenario.name}-shard${shard.run.index}of${shard.run.count}` : scenario.name);
  const progress = new ProgressLine();
  const result = await runScenario(
    { scenario, adapters, cells, brokers: flags.brokers, externalUrls: flags.urls, runBase: base, ...(shard ? { shard } : {}) },
    {
      signal: aborter.signal,
      progress: (p) => progress.update(p),
      log: (line) => {
        progress.clear();
        if (process.stderr.isTTY) process.stderr.write(`${line}\n`);
      },
    },
  );
  progress.clear();
  if (aborter.signal.aborted) {
    process.stderr.write('busbench: interrupted: brokers stopped, no result written\n');
    return receivedSignal === 'SIGTERM' ? 143 : 130;
  }

  return finish(flags, base, result);
}

function finish(flags: BenchFlags, base: string, result: RunResult, what = 'result', write = writeResultFiles): number {
  const files = write(base, result);
  const out = flags.json ? process.stderr : process.stdout;
  out.write(summaryTable(result, out) + '\n\n');
  out.write(`${what}: ${path.relative(process.cwd(), files.json)}\n`);
  if (flags.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  return result.ok ? 0 : 1;
}

/** --shard i/N: this process's part of the run, refused before anything starts if it cannot be one. */
function shardOf(flags: BenchFlags, whole: Scenario): ScenarioRun['shard'] {
  if (flags.processes) checkShardable(whole, flags.processes, flags.brokers, `--processes ${flags.processes}`, true);
  if (!flags.shard || !flags.startAt) return undefined;
  const { index, count } = flags.shard;
  checkShardable(whole, count, flags.brokers, `--shard ${index}/${count}`);
  return { run: { index, count, startAt: flags.startAt.text, startEpochMs: flags.startAt.epochMs }, whole };
}

/**
 * Seconds for N children to load and open the system before the common start: on a
 * loaded 2-core machine a child takes ~2 s to reach its workers, and they start together.
 */
const startDelayMs = (n: number): number => 4000 + 1500 * n;

/** What starts the one native broker --processes' shards share, refused before anything starts if the system has none. */
interface SharedBrokerPlan {
  system: string;
  start(dir: string): Promise<SharedBroker>;
}

function sharedBrokerOf(flags: BenchFlags, adapters: Map<string, SystemAdapter>, cells: Map<string, PlannedCell[]>): SharedBrokerPlan | undefined {
  if (flags.brokers !== 'native') return undefined;
  const [system, adapter] = [...adapters][0]!;
  const start = adapter.startSharedBroker?.bind(adapter);
  if (!start) throw new UsageError(`--processes ${flags.processes} --brokers native: ${system} cannot share one native broker between shard processes (nats can); use --brokers external --url ${system}=<url>`);
  const options = cells.get(system)![0]!.options;
  return { system, start: (dir) => start(options, { dir, log: (l) => process.stderr.write(`${l}\n`) }) };
}

/** The shards against one native broker started here for them, stopped when they are done (or interrupted). */
async function withSharedBroker<T>(plan: SharedBrokerPlan | undefined, dir: string, argv: string[], run: (argv: string[], broker?: SharedBroker) => Promise<T>): Promise<T> {
  if (!plan) return run(argv);
  for (const r of reapOrphans()) process.stderr.write(`busbench: stopped a broker left by an earlier run: ${r}\n`);
  const broker = await plan.start(dir);
  process.stderr.write(`busbench: shared ${plan.system} broker for the shards at ${broker.url}\n`);
  try {
    return await run(sharedBrokerArgv(argv, plan.system, broker.url), broker);
  } finally {
    await broker.stop();
  }
}

/** --processes N: N local shards at one start time, merged into one result like any other. */
async function runProcesses(flags: BenchFlags, argv: string[], whole: Scenario, shared: SharedBrokerPlan | undefined): Promise<number> {
  const count = flags.processes!;
  fs.mkdirSync(flags.out, { recursive: true });
  const base = uniqueBase(flags.out, timestampForFile(new Date()), whole.name);
  const aborter = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    receivedSignal = sig;
    if (++interrupts > 1) {
      killShardsSync();
      killAllBrokersSync();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    process.stderr.write(`\nbusbench: ${sig}: stopping the ${count} shards${shared ? ', then their broker' : ''} (again to force)\n`);
    aborter.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const { files, broker } = await withSharedBroker(shared, `${base}.shards/broker`, argv, async (childArgs, b) => {
    if (aborter.signal.aborted) throw new BusbenchError('INTERRUPTED', 'interrupted');
    // counted from now: a broker started first does not eat into the children's lead
    const startAt = flags.startAt?.text ?? new Date(Date.now() + startDelayMs(count)).toISOString();
    process.stderr.write(`busbench: ${count} shards start at ${startAt}\n`);
    const log = (l: string): void => void process.stderr.write(`${l}\n`);
    return { files: await runLocalShards({ count, startAt, argv: childArgs, outDir: `${base}.shards`, signal: aborter.signal, log }), broker: b?.describe() };
  });
  const run = mergeShards(loadShardInputs(files));
  // the shards attached to it as to an external broker: the result names what it was
  if (broker) run.result.systems[0]!.config.broker = broker;
  run.result.cells = summarizeCells(run.result.systems);
  return finish(flags, base, run.result, `merged ${count} shards`, (b) => writeMergedFiles(b, run));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    killShardsSync();
    killAllBrokersSync();
    const code = receivedSignal ? (receivedSignal === 'SIGTERM' ? 143 : 130) : exitCodeFor(err);
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`busbench: ${msg}\n`);
    if (code === 1 && err instanceof Error && !(err instanceof BusbenchError) && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exit(code);
  },
);
