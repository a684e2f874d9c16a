/**
 * npm run kube -- --shards <n> --scenario <name> --start-at <ISO time> --image <ref> [flags] [-- <bench flags>]
 *
 * Writes the Kubernetes manifests of one sharded run (src/deploy/kubernetes). Everything
 * is checked first: shard 0's command line, exactly as its pod runs it, goes through
 * bench's own checks (flags, scenario, shardability, every system's options), so a run
 * that the pods would refuse is refused here (one line, exit 2) and no file is written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../src/core/errors.ts';
import { loadAdapter, requireBrokerUrls, systemNames } from '../src/adapters/registry.ts';
import { applyFlags, parseFlags } from '../src/scenario/flags.ts';
import { checkSystems, loadScenario, scenarioNames, type Scenario } from '../src/scenario/scenario.ts';
import { MAX_SHARDS, checkShardable, shardScenario } from '../src/scenario/shard.ts';
import { planCells } from '../src/harness/run-scenario.ts';
import { DEFAULT_URLS, kubeHelp, parseKubeArgs } from '../src/deploy/kubernetes/flags.ts';
import { INDEX_ENV, renderManifests, runManifests, shardArgs } from '../src/deploy/kubernetes/manifests.ts';
import type { KubePlan } from '../src/deploy/kubernetes/plan.ts';
import { runCli } from '../src/report/io/cli.ts';

/** The systems the run reaches over the network, each with its URL: given, or the Helm default. */
async function brokerUrls(plan: KubePlan, scenario: Scenario): Promise<Record<string, string>> {
  const urls: Record<string, string> = {};
  for (const system of scenario.systems) {
    if (!(await loadAdapter(system)).needsBroker) continue;
    const url = plan.urls[system] ?? DEFAULT_URLS[system];
    if (!url) throw new UsageError(`--url ${system}=<url> is needed: the run includes ${system}, which has no default in-cluster address`);
    urls[system] = url;
  }
  for (const system of Object.keys(plan.urls)) if (!urls[system]) throw new UsageError(`--url ${system}=…: the run does not include ${system} (systems: ${scenario.systems.join(', ')})`);
  return urls;
}

/** Shard 0 as its pod runs it, through the checks bench makes before it starts anything. */
async function checkShardCommand(plan: KubePlan, known: string[]): Promise<void> {
  const flags = parseFlags(shardArgs(plan).map((a) => a.replaceAll(`$(${INDEX_ENV})`, '0')), known);
  const whole = applyFlags(loadScenario(plan.scenario, known), flags);
  checkSystems(whole, known);
  checkShardable(whole, plan.shards, flags.brokers, `--shards ${plan.shards}`);
  const scenario = shardScenario(whole, plan.shards);
  const adapters = [];
  for (const system of scenario.systems) {
    const adapter = await loadAdapter(system);
    planCells(system, adapter, scenario, flags.brokers);
    adapters.push(adapter);
  }
  requireBrokerUrls(adapters, flags.brokers, flags.urls);
}

async function main(argv: string[]): Promise<number> {
  const known = await systemNames();
  const parsed = parseKubeArgs(argv, { scenarios: scenarioNames(), systems: known, maxShards: MAX_SHARDS });
  if (parsed === 'help') {
    process.stdout.write(kubeHelp() + '\n');
    return 0;
  }
  // the systems first (bench flags alone), to know which --url each shard needs
  const whole = applyFlags(loadScenario(parsed.plan.scenario, known), parseFlags(parsed.plan.benchArgs, known));
  const plan = { ...parsed.plan, urls: await brokerUrls(parsed.plan, whole) };
  await checkShardCommand(plan, known);
  const files = renderManifests(runManifests(plan), argv);
  fs.mkdirSync(parsed.out, { recursive: true });
  for (const f of files) fs.writeFileSync(path.join(parsed.out, f.file), f.text);
  for (const f of files) process.stdout.write(`wrote ${path.join(parsed.out, f.file)}\n`);
  return 0;
}

runCli('kube', main);
