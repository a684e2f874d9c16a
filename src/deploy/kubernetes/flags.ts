/**
 * The kube CLI's flags (bench/kube.ts): checked one by one into a KubePlan, every bad
 * value a UsageError naming it and what is valid, before anything is written. What the
 * flags after "--" mean is bench's business: the CLI checks them with bench's own parser.
 */
import { flagLines, parseArgv, type FlagSpec, type ParsedArgs } from '../../core/argv.ts';
import { UsageError } from '../../core/errors.ts';
import type { KubePlan } from './plan.ts';

export const DEFAULT_OUT = 'deploy/kubernetes/generated';

/** Brokers as the Helm values in deploy/kubernetes/ install them: releases "nats" and "pulsar" in the run's namespace. */
export const DEFAULT_URLS: Record<string, string> = {
  nats: 'nats://nats:4222',
  pulsar: 'pulsar://pulsar-broker:6650',
};

/** Bench flags the manifests set themselves, per shard: a second value would contradict them. */
export const RESERVED_BENCH_FLAGS = ['scenario', 'shard', 'start-at', 'brokers', 'url', 'out', 'json', 'help'];

export const KUBE_FLAGS: FlagSpec[] = [
  { name: 'shards', value: '<n>', help: 'how many busbench processes, one per node (required)' },
  { name: 'scenario', value: '<name>', help: 'a scenario shipped in the image (required)' },
  { name: 'start-at', value: '<ISO time>', help: "every shard's --start-at, e.g. 2026-12-02T09:00:00Z (required; at most 1 h ahead, and leave time to pull the image)" },
  { name: 'image', value: '<ref>', help: 'the busbench image in your registry, e.g. registry.example.com/busbench:0.1.0 (required)' },
  { name: 'name', value: '<dns label>', help: 'prefix of every object and the run folder on the volume (default busbench)' },
  { name: 'namespace', value: '<dns label>', help: 'where the brokers and the run live (default busbench)' },
  { name: 'url', value: '<system=url>', repeatable: true, help: `in-cluster broker URL (defaults: ${Object.entries(DEFAULT_URLS).map(([s, u]) => `${s}=${u}`).join(', ')})` },
  { name: 'storage-class', value: '<name>', help: 'storage class of the results volume, ReadWriteMany (default: the cluster default)' },
  { name: 'storage-size', value: '<quantity>', help: 'size of the results volume (default 1Gi)' },
  { name: 'node-selector', value: '<key=value>', repeatable: true, help: 'run shards only on nodes with this label (repeatable)' },
  { name: 'merge-deadline', value: '<time>', help: 'how long the merge waits for every shard, e.g. 90m (default 1h)' },
  { name: 'out', value: '<dir>', help: `where the YAML files go (default ${DEFAULT_OUT})` },
  { name: 'help', help: 'show this help' },
];

export interface KubeArgs {
  plan: KubePlan;
  out: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const QUANTITY = /^[1-9]\d*(Ki|Mi|Gi|Ti)$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
// an image reference: [registry[:port]/]path[:tag][@digest], lower-case path
const IMAGE = /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;

function required(args: ParsedArgs, name: string): string {
  const v = args.values.get(name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}

function shardsFlag(v: string, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > max) throw new UsageError(`--shards ${v}: expected an integer from 1 to ${max}`);
  return n;
}

// Job names get "-shards" and pods a further suffix; 40 leaves room under the 63 of a label value.
function dnsLabel(flag: string, v: string): string {
  if (!DNS_LABEL.test(v) || v.length > 40) throw new UsageError(`--${flag} ${v}: expected a DNS label of at most 40 characters: lower-case letters, digits and '-', e.g. busbench`);
  return v;
}

function scenarioFlag(v: string, scenarios: string[]): string {
  if (!scenarios.includes(v)) throw new UsageError(`--scenario ${v}: expected a scenario the image ships; valid: ${scenarios.join(', ')}`);
  return v;
}

function imageFlag(v: string): string {
  if (!IMAGE.test(v)) throw new UsageError(`--image ${v}: expected an image reference such as registry.example.com/busbench:0.1.0`);
  return v;
}

function urlsFlag(list: string[], knownSystems: string[]): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const v of list) {
    const m = /^([\w-]+)=([a-z+]+:\/\/\S+)$/.exec(v);
    if (!m || !knownSystems.includes(m[1]!) || !URL.canParse(m[2]!)) throw new UsageError(`--url ${v}: expected <system>=<url> with system one of ${knownSystems.join(', ')}, e.g. nats=nats://nats:4222`);
    urls[m[1]!] = m[2]!;
  }
  return urls;
}

function nodeSelectorFlag(list: string[]): Record<string, string> {
  const selector: Record<string, string> = {};
  for (const v of list) {
    const [key = '', value = ''] = v.split(/=(.*)/s);
    if (!v.includes('=') || !LABEL_KEY.test(key) || !LABEL_VALUE.test(value)) throw new UsageError(`--node-selector ${v}: expected <label key>=<label value>, e.g. busbench=load`);
    selector[key] = value;
  }
  return selector;
}

function storageClassFlag(v: string): string {
  if (!DNS_SUBDOMAIN.test(v) || v.length > 253) throw new UsageError(`--storage-class ${v}: expected a storage class name (lower-case letters, digits, '-' and '.'), e.g. nfs-client`);
  return v;
}

function quantityFlag(v: string): string {
  if (!QUANTITY.test(v)) throw new UsageError(`--storage-size ${v}: expected a size in Ki, Mi, Gi or Ti, e.g. 1Gi`);
  return v;
}

function deadlineFlag(v: string): number {
  const m = /^([1-9]\d*)(s|m|h)$/.exec(v);
  if (!m) throw new UsageError(`--merge-deadline ${v}: expected a duration in s, m or h, e.g. 90m`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
}

function benchArgsOf(positional: string[]): string[] {
  for (const arg of positional) {
    const name = /^--([^=]+)/.exec(arg)?.[1];
    if (name && RESERVED_BENCH_FLAGS.includes(name)) throw new UsageError(`bench flag --${name} after "--": the manifests set it for each shard; valid there: any other bench flag, e.g. --duration 60s`);
  }
  return positional;
}

export interface KubeContext {
  scenarios: string[];
  systems: string[];
  /** bench's limit on --shard i/N */
  maxShards: number;
}

/**
 * The kube CLI's command line. Bench flags follow "--" and are returned unchecked
 * (benchArgs), and so is --start-at: both are checked by bench's own parser on a shard's
 * command line (bench/kube.ts), as the pods will run it.
 */
export function parseKubeArgs(argv: string[], ctx: KubeContext): KubeArgs | 'help' {
  const args = parseArgv(argv, KUBE_FLAGS, { positional: true, emptyValues: false });
  if (args.booleans.has('help')) return 'help';
  const dashes = argv.indexOf('--');
  if (args.positional.length > 0 && (dashes < 0 || argv.length - dashes - 1 !== args.positional.length)) {
    throw new UsageError(`unexpected argument "${args.positional[0]}"; bench flags go after "--"`);
  }
  const storageClass = args.values.get('storage-class');
  const plan: KubePlan = {
    shards: shardsFlag(required(args, 'shards'), ctx.maxShards),
    scenario: scenarioFlag(required(args, 'scenario'), ctx.scenarios),
    startAt: required(args, 'start-at'),
    image: imageFlag(required(args, 'image')),
    name: dnsLabel('name', args.values.get('name') ?? 'busbench'),
    namespace: dnsLabel('namespace', args.values.get('namespace') ?? 'busbench'),
    urls: urlsFlag(args.lists.get('url') ?? [], ctx.systems),
    benchArgs: benchArgsOf(args.positional),
    storageClass: storageClass === undefined ? undefined : storageClassFlag(storageClass),
    storageSize: quantityFlag(args.values.get('storage-size') ?? '1Gi'),
    nodeSelector: nodeSelectorFlag(args.lists.get('node-selector') ?? []),
    mergeDeadlineSeconds: deadlineFlag(args.values.get('merge-deadline') ?? '1h'),
  };
  return { plan, out: args.values.get('out') ?? DEFAULT_OUT };
}

export function kubeHelp(): string {
  return [
    'usage: npm run kube -- --shards <n> --scenario <name> --start-at <ISO time> --image <ref> [flags] [-- <bench flags>]',
    '',
    'Writes the Kubernetes manifests of one sharded run: the results volume claim, an Indexed Job',
    'of <n> shards (one per node, each `busbench --shard i/<n> --start-at <time>` against the',
    'brokers in the cluster) and the Job that merges their results. Apply with kubectl apply -f <out>.',
    '',
    'flags:',
    ...flagLines(KUBE_FLAGS),
  ].join('\n');
}
