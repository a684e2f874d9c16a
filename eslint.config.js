import fs from 'node:fs';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The import direction between layers, so that a change in one layer can only break the
 * layers above it: core ← checks ← report; core ← brokers ← adapters; the scenario
 * (src/scenario: what users write, parsed) under the engine (src/harness), which reads
 * its types and sits on top, reaching the systems through the registry alone. Merging
 * shard results (src/checks/merge) is judging results, so it sits in checks: the report
 * CLIs and bench may both use it, and it can never reach the engine. Each file
 * matches exactly one block below, because a later block's no-restricted-imports would
 * replace an earlier one's rather than add to it. Patterns are on the relative import
 * path, so they hold at any folder depth. src/deploy (the manifests of a run on a
 * cluster) is a leaf beside the engine: it imports core only and only bench/ imports it.
 */
const UP = '^(\\.\\./)+';
const noImport = (folders, why) => ({ regex: `${UP}(${folders.join('|')})/`, message: why });
const NOT_IN_CORE = 'core is the bottom layer: it imports nothing of ours, so everything may import it';
const NOT_ENGINE = 'the engine (src/scenario, src/harness) sits on top: nothing below it may import it';
const NOT_REPORT = 'report renders result files: only the CLIs in bench/ use it';
const NOT_CHECKS = 'adapters and brokers import core and brokers only; verdicts are the engine’s business';
const NOT_DEPLOY = 'src/deploy writes a run’s cluster manifests: only the CLIs in bench/ use it';
const ADAPTERS = fs.readdirSync(new URL('./src/adapters/', import.meta.url), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
// What the scenario and the engine may reach, alike: both sit above the systems.
const ENGINE_REACH = [
  { regex: `${UP}adapters/(?!registry\\.ts$)`, message: 'the engine reaches the systems only through src/adapters/registry.ts, so any registered system runs without engine changes' },
  noImport(['brokers'], 'the engine reaches the brokers only through the adapters, via src/adapters/registry.ts'),
  noImport(['report'], 'the engine produces results; rendering them is the report’s job (shared formatters belong in core)'),
  noImport(['deploy'], NOT_DEPLOY),
];
const restrict = (files, patterns) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } });
const layerRules = [
  restrict(['src/core/**'], [noImport(['checks', 'scenario', 'harness', 'report', 'adapters', 'brokers', 'deploy'], NOT_IN_CORE)]),
  restrict(['src/checks/**'], [noImport(['scenario', 'harness', 'report', 'adapters', 'brokers', 'deploy'], 'checks judge results: they import core only')]),
  restrict(['src/brokers/**'], [noImport(['scenario', 'harness'], NOT_ENGINE), noImport(['report'], NOT_REPORT), noImport(['checks', 'adapters', 'deploy'], 'brokers import core and brokers only')]),
  restrict(['src/adapters/*.ts'], [noImport(['scenario', 'harness'], NOT_ENGINE), noImport(['report'], NOT_REPORT), noImport(['checks'], NOT_CHECKS), noImport(['deploy'], NOT_DEPLOY)]),
  ...ADAPTERS.map((name) =>
    restrict(
      [`src/adapters/${name}/**`],
      [
        noImport(['scenario', 'harness'], NOT_ENGINE),
        noImport(['report'], NOT_REPORT),
        noImport(['checks'], NOT_CHECKS),
        noImport(['deploy'], NOT_DEPLOY),
        ...(ADAPTERS.length > 1 ? [noImport(ADAPTERS.filter((other) => other !== name), 'an adapter never imports another adapter: what they share belongs in core or brokers')] : []),
      ],
    ),
  ),
  restrict(['src/report/**'], [noImport(['scenario', 'harness'], NOT_ENGINE), noImport(['adapters', 'brokers'], 'the report reads result files: it knows no system, only core and checks'), noImport(['deploy'], NOT_DEPLOY)]),
  restrict(['src/deploy/**'], [noImport(['checks', 'scenario', 'harness', 'report', 'adapters', 'brokers'], 'src/deploy builds manifests from a plan: it imports core only; bench/kube.ts checks the plan against the scenario')]),
  restrict(['src/scenario/**'], [noImport(['harness'], 'the scenario is what users write: the engine reads it, never the other way round'), ...ENGINE_REACH]),
  restrict(['src/harness/**'], ENGINE_REACH),
];

export default tseslint.config(
  { ignores: ['node_modules/', 'results/', '.cache/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly', URL: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', SharedArrayBuffer: 'readonly', Atomics: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', Buffer: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', performance: 'readonly', NodeJS: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  ...layerRules,
  // The run engine reads as named steps: a step that outgrows a screen hides its order.
  // flags.ts is the command-line parser, not the engine; it is being replaced by a shared one.
  {
    files: ['src/harness/**/*.ts', 'src/scenario/**/*.ts'],
    ignores: ['src/scenario/flags.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }] },
  },
);
