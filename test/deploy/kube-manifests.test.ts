/**
 * `npm run kube`: the manifests it writes parse as the objects a cluster expects (an
 * Indexed Job whose index reaches --shard, the results volume in every pod, the merge
 * Job), bad input is refused in one line with exit 2 and nothing written, and the
 * committed example in deploy/kubernetes/generated/ is what its own command writes.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { parseKubeArgs } from '../../src/deploy/kubernetes/flags.ts';
import { INDEX_ENV, renderManifests, runManifests } from '../../src/deploy/kubernetes/manifests.ts';
import { scenarioNames } from '../../src/scenario/scenario.ts';
import { systemNames } from '../../src/adapters/registry.ts';
import { MAX_SHARDS } from '../../src/scenario/shard.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
// bench takes a start at most 1 h ahead: 30 min from now, to the second
const START = new Date(Math.floor(Date.now() / 1000) * 1000 + 30 * 60_000).toISOString().replace('.000Z', 'Z');
const RUN_DIR = `/results/busbench/${START.replace(/[-:]/g, '')}`;
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-kube-'));

function kube(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/kube.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const base = (out: string): string[] => ['--shards', '3', '--scenario', 'tps', '--start-at', START, '--image', 'registry.example.com/busbench:0.1.0', '--out', out];
// what the bad inputs below change: a valid run, unless the case makes it otherwise
const valid = ['--', '--systems', 'nats', '--producers', '3', '--consumers', '3'];
const read = <T>(dir: string, file: string): T => YAML.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as T;

describe('npm run kube', () => {
  it('writes an Indexed Job whose completion index reaches --shard, the results volume and the merge Job', () => {
    const out = tmp();
    const r = kube([...base(out), '--storage-class', 'nfs-client', '--', '--systems', 'nats', '--producers', '3', '--consumers', '6', '--duration', '60s']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['00-results-pvc.yaml', '10-shards-job.yaml', '20-merge-job.yaml']);

    const claim = read<PersistentVolumeClaim>(out, '00-results-pvc.yaml');
    expect(claim.kind).toBe('PersistentVolumeClaim');
    expect(claim.spec?.accessModes).toEqual(['ReadWriteMany']);
    expect(claim.spec?.storageClassName).toBe('nfs-client');

    const shards = read<Job>(out, '10-shards-job.yaml');
    expect(shards.kind).toBe('Job');
    expect(shards.spec?.completionMode).toBe('Indexed');
    expect([shards.spec?.completions, shards.spec?.parallelism]).toEqual([3, 3]);
    const pod = shards.spec!.template.spec!;
    const [container] = pod.containers;
    expect(container!.env).toContainEqual({ name: INDEX_ENV, valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } });
    const args = container!.args!;
    const after = (flag: string): string[] => args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
    expect(after('--shard')).toEqual([`$(${INDEX_ENV})/3`]);
    expect(after('--start-at')).toEqual([START]);
    expect(after('--brokers')).toEqual(['external']);
    expect(after('--url')).toEqual(['nats=nats://nats:4222']);
    expect(after('--out')).toEqual([`${RUN_DIR}/shard-$(${INDEX_ENV})`]);
    expect(args.slice(-8)).toEqual(['--systems', 'nats', '--producers', '3', '--consumers', '6', '--duration', '60s']);
    expect(container!.volumeMounts).toEqual([{ name: 'results', mountPath: '/results' }]);
    expect(pod.volumes).toEqual([{ name: 'results', persistentVolumeClaim: { claimName: claim.metadata?.name } }]);
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0]?.topologyKey).toBe('kubernetes.io/hostname');

    const merge = read<Job>(out, '20-merge-job.yaml');
    const mergePod = merge.spec!.template.spec!;
    expect(mergePod.volumes).toEqual(pod.volumes);
    const env = Object.fromEntries(mergePod.containers[0]!.env!.map((e) => [e.name, e.value]));
    expect(env).toEqual({ SHARDS: '3', RUN_DIR, MERGED_DIR: `${RUN_DIR}/merged` });
    expect(mergePod.containers[0]!.command!.join(' ')).toMatch(/npm run merge -- .*"\$RUN_DIR"\/shard-\*\/\*\.json/);
    expect(merge.spec?.activeDeadlineSeconds).toBe(3600);
  });

  it.each([
    [['--shards', '0'], /^kube: --shards 0: expected an integer from 1 to 64$/],
    [['--start-at', '2030-06-01T09:00:00'], /^kube: --start-at 2030-06-01T09:00:00: expected an ISO 8601 time with a zone/],
    [['--start-at', '2020-06-01T09:00:00Z'], /^kube: --start-at 2020-06-01T09:00:00Z: [\d.]+ s in the past/],
    [['--start-at', '2099-06-01T09:00:00Z'], /^kube: --start-at 2099-06-01T09:00:00Z: [\d.]+ min ahead; expected at most 60 min ahead$/],
    [['--scenario', 'nope'], /^kube: --scenario nope: expected a scenario the image ships; valid: .*tps/],
    [['--image', 'Not An Image'], /^kube: --image Not An Image: expected an image reference/],
    [['--name', 'Bad_Name'], /^kube: --name Bad_Name: expected a DNS label/],
    [['--storage-size', '10GB'], /^kube: --storage-size 10GB: expected a size in Ki, Mi, Gi or Ti/],
    [['--url', 'kafka=kafka://k:9092'], /^kube: --url kafka=kafka:\/\/k:9092: expected <system>=<url> with system one of/],
    [['--', '--url', 'pulsar=pulsar://p:6650'], /^kube: bench flag --url after "--": the manifests set it/],
    [['--', '--shard', '1/2'], /^kube: bench flag --shard after "--"/],
    [['--', '--duration', '-3s'], /^kube: --duration -3s: expected a duration/],
    [['--', '--systems', 'kafka'], /^kube: --systems: unknown system "kafka"/],
    [['--url', 'pulsar=pulsar://p:6650'], /^kube: --url pulsar=…: the run does not include pulsar/],
    // bench's own refusals of a shard, on shard 0's command line
    [['--', '--systems', 'nats,pulsar'], /^kube: --shards 3: runs one system, the scenario has nats, pulsar; pick one with --systems$/],
    [['--', '--producers', '2'], /^kube: --shards 3: producers 2 is not a multiple of 3 shards$/],
    [['--', '--rate', 'sustainable'], /^kube: --shards 3: rate sustainable needs a probe or a search/],
    [['--', '--set', 'nats.storage=floppy'], /nats.*storage/],
    [['stray'], /^kube: unexpected argument "stray"; bench flags go after "--"$/],
  ])('bad input %j: one line, exit 2, nothing written', (extra, pattern) => {
    const dir = tmp();
    const out = path.join(dir, 'out');
    // a later value of a flag wins, so the bad one replaces the good one before it
    const benchPart = extra[0] === '--' ? [...valid, ...extra.slice(1)] : valid;
    const r = kube([...base(out), ...(extra[0] === '--' ? [] : extra), ...benchPart]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(pattern);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('a missing required flag is named', () => {
    const out = path.join(tmp(), 'out');
    const r = kube(['--shards', '3', '--scenario', 'tps', '--start-at', START, '--out', out]);
    expect([r.code, r.stderr.trim()]).toEqual([2, 'kube: --image is required']);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('the committed example in deploy/kubernetes/generated/ is what its header command writes', async () => {
    const dir = path.join(ROOT, 'deploy/kubernetes/generated');
    const files = fs.readdirSync(dir).sort();
    const first = fs.readFileSync(path.join(dir, files[0]!), 'utf8').split('\n')[0]!;
    const command = /^# Generated by: npm run kube -- (.*)$/.exec(first)?.[1];
    expect(command).toBeDefined();
    const argv = command!.split(' ');
    // the example names every --url, so the plan is the CLI's without its broker defaults
    const parsed = parseKubeArgs(argv, { scenarios: scenarioNames(), systems: await systemNames(), maxShards: MAX_SHARDS });
    if (parsed === 'help') throw new Error('the header command asks for help');
    expect(path.resolve(ROOT, parsed.out)).toBe(dir);
    const rendered = renderManifests(runManifests(parsed.plan), argv);
    expect(rendered.map((f) => f.file)).toEqual(files);
    for (const f of rendered) expect(f.text, f.file).toBe(fs.readFileSync(path.join(dir, f.file), 'utf8'));
  });
});
