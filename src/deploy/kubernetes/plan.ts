/**
 * What a Kubernetes run of busbench is, once its command line is checked: N shards of one
 * scenario, started together at one wall-clock time against brokers the cluster runs,
 * each writing its result to a shared volume, then one merge of those results. The
 * manifests (manifests.ts) are a pure function of this plan.
 */

export interface KubePlan {
  /** prefix of every object's name, and the run's folder on the results volume */
  name: string;
  namespace: string;
  /** the busbench image, as the cluster pulls it (registry/repository:tag) */
  image: string;
  /** a scenario shipped in the image's scenarios/ folder */
  scenario: string;
  shards: number;
  /** the common start every shard waits for, ISO 8601 with a zone, passed to --start-at */
  startAt: string;
  /** --url per system that needs a broker: the in-cluster service addresses */
  urls: Record<string, string>;
  /** further bench flags, the same for every shard (checked by the CLI against bench's own parser) */
  benchArgs: string[];
  /** the results volume's storage class; undefined: the cluster's default class */
  storageClass: string | undefined;
  /** the results volume's size, a Kubernetes quantity such as 1Gi */
  storageSize: string;
  /** nodes the shards may run on (label key → value); empty: any node */
  nodeSelector: Record<string, string>;
  /** how long the merge Job may wait for every shard's result before it fails */
  mergeDeadlineSeconds: number;
}

/** Where the results volume is mounted in every pod. */
export const RESULTS_MOUNT = '/results';

/**
 * The run's folder on the results volume: the name, then the start time as given without
 * its separators (2026-12-02T08:00:00Z → 20261202T080000Z), so that a later run of the
 * same name never merges an earlier run's shard results.
 */
export function runDir(plan: Pick<KubePlan, 'name' | 'startAt'>): string {
  const start = plan.startAt.replace(/[^0-9A-Za-z]/g, '');
  return `${RESULTS_MOUNT}/${plan.name}/${start}`;
}

/** The folder shard `index` writes to. */
export function shardDir(plan: Pick<KubePlan, 'name' | 'startAt'>, index: number | string): string {
  return `${runDir(plan)}/shard-${index}`;
}

/** The folder the merge Job writes the merged result to. */
export function mergedDir(plan: Pick<KubePlan, 'name' | 'startAt'>): string {
  return `${runDir(plan)}/merged`;
}
