/**
 * Kill targets (FaultTarget): the names a scenario may give, which processes a target
 * takes on a given deployment, and the refusal of a name a system does not run. The
 * scenario checks the form of a name, each adapter's checkRun what its deployment runs,
 * so a target that cannot be honoured exits 2 before anything starts.
 */
import type { FaultKind, FaultTarget, RunShape } from './contract.ts';
import { ConfigError } from './errors.ts';

/** role-number, the roles being the processes busbench runs as cluster nodes */
const NODE_NAME = /^(nats|zk|bookie|broker)-([1-9][0-9]?)$/;
export const TARGET_FORMS = 'all, majority, or one node: nats-<n>, zk-<n>, bookie-<n>, broker-<n> (e.g. bookie-1)';

/** The target as a scenario names it, or undefined when `v` is not one. */
export function targetFromText(v: unknown): FaultTarget | undefined {
  if (v === 'all' || v === 'majority') return v;
  return typeof v === 'string' && NODE_NAME.test(v) ? { node: v } : undefined;
}

export function targetText(t: FaultTarget): string {
  return typeof t === 'string' ? t : t.node;
}

/** The fault's target: what a kill takes, or what a power loss cuts; 'all' when it names none. */
export function targetOf(kind: FaultKind | undefined): FaultTarget {
  return kind?.target ?? 'all';
}

/**
 * The processes `target` takes among `nodes` (names role-n): every one; one; or for a
 * majority the lowest-numbered floor(k/2)+1 of each role's k, so that a majority of a
 * Pulsar cluster is two of three ZooKeepers, bookies and brokers alike, as if two of
 * three machines, each running one of every role, had failed.
 */
export function nodesOf(target: FaultTarget, nodes: readonly string[]): string[] {
  if (target === 'all') return [...nodes];
  if (typeof target !== 'string') return nodes.filter((n) => n === target.node);
  const byRole = new Map<string, string[]>();
  for (const n of nodes) {
    const role = NODE_NAME.exec(n)?.[1] ?? n;
    byRole.set(role, [...(byRole.get(role) ?? []), n]);
  }
  return [...byRole.values()].flatMap((members) => members.slice(0, Math.floor(members.length / 2) + 1));
}

/**
 * Refuses a kill target `nodes` does not allow: a name not among them, or a majority
 * where no role has three nodes. `single` says what runs instead (e.g. "the standalone
 * is one JVM"), for the message. A power loss of fewer than all nodes needs each node's
 * data on a layer of its own: `nodePowerLoss` says the deployment does that.
 */
export function refuseFaultTarget(run: RunShape, where: string, nodes: readonly string[], single: string, nodePowerLoss = false): void {
  const target = targetOf(run.fault);
  if (target === 'all') return;
  if (run.fault?.type === 'power-loss' && !nodePowerLoss) {
    throw new ConfigError(where, 'fault.kill', 'all with fault.type power-loss here (only pulsar.topology cluster puts each node\'s data on a power-loss layer of its own)', targetText(target));
  }
  const names = nodes.length > 1 ? `all, majority or one of ${nodes.join(', ')}` : `all (${single})`;
  if (target === 'majority') {
    if (nodes.length < 3) throw new ConfigError(where, 'fault.kill', names, 'majority');
    return;
  }
  if (!nodes.includes(target.node)) throw new ConfigError(where, 'fault.kill', names, target.node);
}
