/**
 * The import direction of eslint.config.js, proven to bite: each case lints a small file
 * placed (in memory) in one layer and importing another, through ESLint itself with the
 * project's own config, so a rule that silently stopped matching fails here.
 */
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: ROOT });

async function importErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const importing = (from: string): string => `import { thing } from '${from}';\nexport const again = thing;\n`;

describe('import direction between layers', () => {
  it.each([
    ['src/core/x.ts', '../report/y.ts', /core is the bottom layer/],
    ['src/core/x.ts', '../checks/ledger.ts', /core is the bottom layer/],
    ['src/core/x.ts', '../harness/runner.ts', /core is the bottom layer/],
    ['src/core/x.ts', '../scenario/scenario.ts', /core is the bottom layer/],
    ['src/checks/x.ts', '../harness/runner.ts', /checks judge results: they import core only/],
    ['src/checks/x.ts', '../report/console.ts', /checks judge results/],
    ['src/adapters/nats/x.ts', '../../harness/protocol.ts', /engine .* nothing below it may import it/],
    ['src/adapters/pulsar/wire/x.ts', '../../../report/table.ts', /report renders result files/],
    ['src/adapters/nats/x.ts', '../pulsar/options.ts', /an adapter never imports another adapter/],
    ['src/adapters/pulsar/wire/x.ts', '../../ringbuffer/layout.ts', /an adapter never imports another adapter/],
    ['src/adapters/registry.ts', '../harness/runner.ts', /nothing below it may import it/],
    ['src/brokers/nats/x.ts', '../../harness/runner.ts', /nothing below it may import it/],
    ['src/brokers/x.ts', '../adapters/nats/index.ts', /brokers import core and brokers only/],
    ['src/report/render/x.ts', '../../harness/runner.ts', /nothing below it may import it/],
    ['src/report/analysis/x.ts', '../../adapters/nats/options.ts', /the report reads result files/],
    ['src/harness/x.ts', '../adapters/nats/index.ts', /only through src\/adapters\/registry.ts/],
    ['src/scenario/x.ts', '../adapters/nats/index.ts', /only through src\/adapters\/registry.ts/],
    ['src/scenario/x.ts', '../harness/control.ts', /the scenario is what users write/],
    ['src/harness/worker/x.ts', '../../brokers/broker.ts', /only through the adapters/],
    ['src/harness/x.ts', '../report/render/console.ts', /rendering them is the report’s job/],
    ['src/deploy/kubernetes/x.ts', '../../scenario/scenario.ts', /src\/deploy builds manifests from a plan: it imports core only/],
    ['src/deploy/kubernetes/x.ts', '../../adapters/registry.ts', /src\/deploy builds manifests from a plan/],
    ['src/harness/x.ts', '../deploy/kubernetes/plan.ts', /only the CLIs in bench\/ use it/],
    ['src/core/x.ts', '../deploy/kubernetes/plan.ts', /core is the bottom layer/],
    ['src/brokers/nats/x.ts', '../../deploy/kubernetes/plan.ts', /brokers import core and brokers only/],
    ['src/report/io/x.ts', '../../deploy/kubernetes/plan.ts', /only the CLIs in bench\/ use it/],
  ])('%s importing %s is an error', async (file, from, why) => {
    const errors = await importErrors(file, importing(from));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(why);
  });

  it('type-only imports and re-exports count as imports', async () => {
    expect(await importErrors('src/core/x.ts', "import type { Thing } from '../report/y.ts';\nexport type Again = Thing;\n")).toHaveLength(1);
    expect(await importErrors('src/report/x.ts', "export { thing } from '../harness/runner.ts';\n")).toHaveLength(1);
  });

  it.each([
    ['src/core/x.ts', './errors.ts'],
    ['src/checks/x.ts', '../core/result.ts'],
    ['src/adapters/nats/x.ts', '../../brokers/broker.ts'],
    ['src/adapters/ringbuffer/child/x.ts', '../server/config.ts'],
    ['src/brokers/pulsar/x.ts', '../broker.ts'],
    ['src/brokers/nats/x.ts', '../common/ports.ts'],
    ['src/report/io/x.ts', '../../checks/durability.ts'],
    ['src/report/render/x.ts', '../analysis/stats.ts'],
    ['src/harness/x.ts', '../adapters/registry.ts'],
    ['src/harness/x.ts', '../checks/ledger.ts'],
    ['src/harness/x.ts', '../scenario/scenario.ts'],
    ['src/harness/worker/x.ts', '../control.ts'],
    ['src/deploy/kubernetes/x.ts', '../../core/argv.ts'],
    ['src/deploy/kubernetes/x.ts', './plan.ts'],
  ])('%s importing %s is allowed', async (file, from) => {
    expect(await importErrors(file, importing(from))).toEqual([]);
  });
});
