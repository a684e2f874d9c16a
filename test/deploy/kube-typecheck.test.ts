/**
 * The manifests are typed with the Kubernetes API schema, so that a wrong field fails the
 * typecheck rather than the cluster: a small module placed (in memory) beside
 * src/deploy/kubernetes/manifests.ts is compiled with the TypeScript API and the
 * project's own tsconfig, once as it should be (no error) and once per kind of mistake
 * (the error that mistake must raise).
 */
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURE = path.join(ROOT, 'src/deploy/kubernetes/typecheck-fixture.ts');

const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;

let previous: ts.Program | undefined;

/** The diagnostics of FIXTURE with `body` appended to a plan and the manifests built from it. */
function diagnostics(body: string): Array<{ code: number; text: string }> {
  const source = `
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Container } from 'kubernetes-types/core/v1.js';
import { shardsJob } from './manifests.ts';
import type { KubePlan } from './plan.ts';
const plan: KubePlan = { name: 'b', namespace: 'b', image: 'i', scenario: 'tps', shards: 2, startAt: '2030-01-01T00:00:00Z', urls: {}, benchArgs: [], storageClass: undefined, storageSize: '1Gi', nodeSelector: {}, mergeDeadlineSeconds: 60 };
const job = shardsJob(plan);
${body}
`;
  const host = ts.createCompilerHost(config.options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (f) => f === FIXTURE || ts.sys.fileExists(f);
  host.readFile = (f) => (f === FIXTURE ? source : readFile(f));
  host.getSourceFile = (f, lang, ...rest) => (f === FIXTURE ? ts.createSourceFile(f, source, lang) : getSourceFile(f, lang, ...rest));
  // the previous program's unchanged files (the library, kubernetes-types) are reused
  const program = ts.createProgram([FIXTURE], config.options, host, previous);
  previous = program;
  return ts.getPreEmitDiagnostics(program).map((d) => ({ file: d.file?.fileName, code: d.code, text: ts.flattenDiagnosticMessageText(d.messageText, '\n') }))
    .map(({ file, code, text }) => {
      expect(file, `only the fixture may have errors: ${text}`).toBe(FIXTURE);
      return { code, text };
    });
}

describe('the manifests are typed with the Kubernetes schema', () => {
  it('a correct use compiles', () => {
    expect(diagnostics(`
export const tuned: Job = { ...job, spec: { ...job.spec, parallelism: 1, backoffLimitPerIndex: 0 } };
export const sidecar: Container = { name: 'c', image: 'i', env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] };
`)).toEqual([]);
  }, 60_000);

  it.each([
    ['a misspelt field', `export const j: Job = { ...job, spec: { ...job.spec, paralelism: 1 } };`, 2561, /'paralelism' does not exist .*Did you mean to write 'parallelism'/],
    ['a field at the wrong level', `export const c: Container = { name: 'c', image: 'i', restartPolicy: 'Never', completionMode: 'Indexed' };`, 2353, /'completionMode' does not exist/],
    ['a wrong key in the downward API', `export const c: Container = { name: 'c', image: 'i', env: [{ name: 'X', valueFrom: { fieldRef: { path: 'metadata.name' } } }] };`, 2353, /'path' does not exist/],
    ['a number where the schema has a string', `export const c: Container = { name: 'c', image: 'i', args: [1] };`, 2322, /not assignable to type 'string'/],
    ['a completion mode other than Indexed', `export const j: typeof job = { ...job, spec: { ...job.spec, completionMode: 'NonIndexed' } };`, 2322, /'"NonIndexed"' is not assignable to type '"Indexed"'/],
  ])('%s fails the typecheck', (_what, body, code, message) => {
    const found = diagnostics(body);
    expect(found.map((d) => d.code)).toEqual([code]);
    expect(found[0]!.text).toMatch(message);
  }, 60_000);
});
