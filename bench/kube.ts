/**
 * npm run kube -- --shards <n> --scenario <name> --start-at <ISO time> --image <ref> [flags] [-- <bench flags>]
 *
 * Writes the Kubernetes manifests of one sharded run (src/deploy/kubernetes). Everything
 * is checked first, the bench flags after "--" by bench's own parser against the
 * scenario, so a run that bench would refuse is refused here (one line, exit 2) and no
 * file is written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../src/core/errors.ts';
import { loadAdapter, systemNames } from '../src/adapters/registry.ts';
import { applyFlags, parseFlags } from '../src/scenario/flags.ts';
import { checkSystems, loadScenario, scenarioNames } from '../src/scenario/scenario.ts';
import { DEFAULT_URLS, kubeHelp, parseKubeArgs } from '../src/deploy/kubernetes/flags.ts';
import { renderManifests, runManifests } from '../src/deploy/kubernetes/manifests.ts';
import type { KubePlan } from '../src/deploy/kubernetes/plan.ts';
import { runCli } from '../src/report/io/cli.ts';

/** The systems the run reaches over the network, each with its URL: given, or the Helm default. */
async function brokerUrls(plan: KubePlan, known: string[]): Promise<Record<string, string>> {
  const scenario = applyFlags(loadScenario(plan.scenario, known), parseFlags(plan.benchArgs, known));
  checkSystems(scenario, known);
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

async function main(argv: string[]): Promise<number> {
  const systems = await systemNames();
  const parsed = parseKubeArgs(argv, { scenarios: scenarioNames(), systems, now: Date.now() });
  if (parsed === 'help') {
    process.stdout.write(kubeHelp() + '\n');
    return 0;
  }
  const plan = { ...parsed.plan, urls: await brokerUrls(parsed.plan, systems) };
  const files = renderManifests(runManifests(plan), argv);
  fs.mkdirSync(parsed.out, { recursive: true });
  for (const f of files) fs.writeFileSync(path.join(parsed.out, f.file), f.text);
  for (const f of files) process.stdout.write(`wrote ${path.join(parsed.out, f.file)}\n`);
  return 0;
}

runCli('kube', main);
