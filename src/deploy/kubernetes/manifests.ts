/**
 * The Kubernetes objects of a run, typed with the API's own schema (kubernetes-types), so
 * that a misspelt or misplaced field fails the typecheck instead of the cluster's
 * admission: the results volume claim, the Indexed Job of the shards, and the merge Job.
 */
import type { Job, JobSpec } from 'kubernetes-types/batch/v1.js';
import type { Affinity, Container, EnvVar, PersistentVolumeClaim, PodSpec, Volume, VolumeMount } from 'kubernetes-types/core/v1.js';
import YAML from 'yaml';
import { RESULTS_MOUNT, mergedDir, runDir, shardDir, type KubePlan } from './plan.ts';

/** The index the Job controller gives each pod of an Indexed Job, by the name it uses. */
export const INDEX_ENV = 'JOB_COMPLETION_INDEX';
const INDEX_ANNOTATION = "metadata.annotations['batch.kubernetes.io/job-completion-index']";
const VOLUME = 'results';

/** kubernetes-types has completionMode as any string: we only ever mean Indexed. */
type IndexedJobSpec = JobSpec & { completionMode: 'Indexed'; completions: number; parallelism: number };
type IndexedJob = Job & { spec: IndexedJobSpec };

export interface RunManifests {
  claim: PersistentVolumeClaim;
  shards: IndexedJob;
  merge: Job;
}

function labels(plan: KubePlan, component: string): Record<string, string> {
  return { 'app.kubernetes.io/name': 'busbench', 'app.kubernetes.io/instance': plan.name, 'app.kubernetes.io/component': component };
}

function claimName(plan: KubePlan): string {
  return `${plan.name}-results`;
}

export function resultsClaim(plan: KubePlan): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: claimName(plan), namespace: plan.namespace, labels: labels(plan, 'results') },
    spec: {
      // every shard pod, on its own node, writes here, and the merge pod reads them all
      accessModes: ['ReadWriteMany'],
      resources: { requests: { storage: plan.storageSize } },
      ...(plan.storageClass === undefined ? {} : { storageClassName: plan.storageClass }),
    },
  };
}

const resultsVolume = (plan: KubePlan): Volume => ({ name: VOLUME, persistentVolumeClaim: { claimName: claimName(plan) } });
const resultsMount: VolumeMount = { name: VOLUME, mountPath: RESULTS_MOUNT };

/** The bench command line of a shard; $(JOB_COMPLETION_INDEX) is expanded by the kubelet. */
export function shardArgs(plan: KubePlan): string[] {
  const index = `$(${INDEX_ENV})`;
  return [
    '--scenario', plan.scenario,
    '--shard', `${index}/${plan.shards}`,
    '--start-at', plan.startAt,
    '--brokers', 'external',
    ...Object.entries(plan.urls).flatMap(([system, url]) => ['--url', `${system}=${url}`]),
    '--out', shardDir(plan, index),
    ...plan.benchArgs,
  ];
}

function shardContainer(plan: KubePlan): Container {
  // Declared rather than left to the Job controller, which adds the same variable only
  // after the pod is created: $(VAR) in args expands only variables the container declares.
  const index: EnvVar = { name: INDEX_ENV, valueFrom: { fieldRef: { fieldPath: INDEX_ANNOTATION } } };
  return { name: 'busbench', image: plan.image, args: shardArgs(plan), env: [index], volumeMounts: [resultsMount] };
}

/** One shard per node: two on a node would share its cores and its network card. */
function onePerNode(plan: KubePlan): Affinity {
  return {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: labels(plan, 'shard') }, topologyKey: 'kubernetes.io/hostname' }],
    },
  };
}

/** The image runs as its user node (1000); fsGroup makes the volume writable to it where the volume type honours it. */
const RUN_AS_NODE = { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 };

function shardPod(plan: KubePlan): PodSpec {
  return {
    restartPolicy: 'Never',
    securityContext: RUN_AS_NODE,
    affinity: onePerNode(plan),
    ...(Object.keys(plan.nodeSelector).length ? { nodeSelector: plan.nodeSelector } : {}),
    containers: [shardContainer(plan)],
    volumes: [resultsVolume(plan)],
  };
}

export function shardsJob(plan: KubePlan): IndexedJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `${plan.name}-shards`, namespace: plan.namespace, labels: labels(plan, 'shard') },
    spec: {
      completionMode: 'Indexed',
      completions: plan.shards,
      parallelism: plan.shards,
      // A shard retried after a failure would start after --start-at, out of step with
      // the others: a failed shard stays failed, and the merge reports it missing.
      backoffLimit: 0,
      template: { metadata: { labels: labels(plan, 'shard') }, spec: shardPod(plan) },
    },
  };
}

/**
 * The merge container's script: wait until every shard folder holds its result file
 * (written last and atomically by each shard), then merge them. The Job's deadline bounds
 * the wait when a shard never writes one.
 */
export const MERGE_SCRIPT = [
  'set -eu',
  'until [ "$(ls "$RUN_DIR"/shard-*/*.json 2>/dev/null | wc -l)" -ge "$SHARDS" ]; do sleep 5; done',
  'exec npm run merge -- --out "$MERGED_DIR" "$RUN_DIR"/shard-*/*.json',
].join('\n');

function mergeContainer(plan: KubePlan): Container {
  const env: EnvVar[] = [
    { name: 'SHARDS', value: String(plan.shards) },
    { name: 'RUN_DIR', value: runDir(plan) },
    { name: 'MERGED_DIR', value: mergedDir(plan) },
  ];
  return { name: 'merge', image: plan.image, command: ['sh', '-c', MERGE_SCRIPT], env, volumeMounts: [resultsMount] };
}

export function mergeJob(plan: KubePlan): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `${plan.name}-merge`, namespace: plan.namespace, labels: labels(plan, 'merge') },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: plan.mergeDeadlineSeconds,
      template: {
        metadata: { labels: labels(plan, 'merge') },
        spec: { restartPolicy: 'Never', securityContext: RUN_AS_NODE, containers: [mergeContainer(plan)], volumes: [resultsVolume(plan)] },
      },
    },
  };
}

export function runManifests(plan: KubePlan): RunManifests {
  return { claim: resultsClaim(plan), shards: shardsJob(plan), merge: mergeJob(plan) };
}

/**
 * File name → YAML text, in the order `kubectl apply -f <dir>` applies them. Each file
 * starts with the command that wrote it, `kubeArgs` (the kube CLI's argv): the command,
 * not the file, is what to edit.
 */
export function renderManifests(m: RunManifests, kubeArgs: string[]): Array<{ file: string; text: string }> {
  const header = `# Generated by: npm run kube -- ${kubeArgs.map(shellWord).join(' ')}\n`;
  const doc = (o: object): string => header + YAML.stringify(o, { lineWidth: 0 });
  return [
    { file: '00-results-pvc.yaml', text: doc(m.claim) },
    { file: '10-shards-job.yaml', text: doc(m.shards) },
    { file: '20-merge-job.yaml', text: doc(m.merge) },
  ];
}

/** An argument as a POSIX shell reads it back: quoted only when it has to be. */
export function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
