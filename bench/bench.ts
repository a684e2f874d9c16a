/**
 * npm run bench -- --scenario <name> [flags]
 *
 * Validates everything first (bad input: one line, exit 2, nothing written), then runs
 * the scenario system by system, prints the comparison table and writes the result files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadAdapter, requireBrokerUrls, systemNames } from '../src/adapters/registry.ts';
import type { SystemAdapter } from '../src/core/contract.ts';
import { BusbenchError, UsageError, exitCodeFor } from '../src/core/errors.ts';
import { killAllBrokersSync, reapOrphans } from '../src/brokers/common/processes.ts';
import { applyFlags, helpText, parseFlags } from '../src/scenario/flags.ts';
import { checkSystems, loadScenario, scenarioNames } from '../src/scenario/scenario.ts';
import { planCells, runScenario, type PlannedCell } from '../src/harness/run-scenario.ts';
import { ProgressLine, summaryTable } from '../src/report/render/console.ts';
import { timestampForFile, uniqueBase, writeResultFiles } from '../src/report/io/files.ts';

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
  const scenario = applyFlags(loadScenario(flags.scenario, known), flags);
  checkSystems(scenario, known);

  // Validate every system's options, in every matrix cell, before anything starts.
  const adapters = new Map<string, SystemAdapter>();
  const cells = new Map<string, PlannedCell[]>();
  for (const system of scenario.systems) {
    const adapter = await loadAdapter(system);
    adapters.set(system, adapter);
    cells.set(system, planCells(system, adapter, scenario, flags.brokers));
  }
  requireBrokerUrls(adapters.values(), flags.brokers, flags.urls);

  for (const r of reapOrphans()) process.stderr.write(`busbench: stopped a broker left by an earlier run: ${r}\n`);

  const aborter = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupts++;
    receivedSignal = sig;
    if (interrupts > 1) {
      killAllBrokersSync();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    process.stderr.write(`\nbusbench: ${sig}: stopping the run and its brokers (again to force)\n`);
    aborter.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const stamp = timestampForFile(new Date());
  fs.mkdirSync(flags.out, { recursive: true });
  const base = uniqueBase(flags.out, stamp, scenario.name);
  const progress = new ProgressLine();
  const result = await runScenario(
    { scenario, adapters, cells, brokers: flags.brokers, externalUrls: flags.urls, runBase: base },
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

  const files = writeResultFiles(base, result);
  const out = flags.json ? process.stderr : process.stdout;
  out.write(summaryTable(result, out) + '\n\n');
  out.write(`result: ${path.relative(process.cwd(), files.json)}\n`);
  if (flags.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  return result.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    killAllBrokersSync();
    const code = receivedSignal ? (receivedSignal === 'SIGTERM' ? 143 : 130) : exitCodeFor(err);
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`busbench: ${msg}\n`);
    if (code === 1 && err instanceof Error && !(err instanceof BusbenchError) && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exit(code);
  },
);
