/**
 * The few Pulsar admin REST calls busbench needs (tenants, namespaces, topics, stats),
 * with Node's fetch: the Java admin client would need a JVM per call, and the adapters
 * need no more than this. Used for readiness, run setup and the end-of-run cross-check.
 */
import { BusbenchError } from '../../core/errors.ts';

/** An admin call that got an HTTP error; `status` lets callers accept e.g. 409 (exists). */
export class PulsarAdminError extends BusbenchError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly reason: string,
  ) {
    super('BROKER', `pulsar admin ${method} ${path}: HTTP ${status}${reason ? `: ${reason}` : ''}`);
    this.name = 'PulsarAdminError';
  }
}

/** The parts of a topic's stats busbench reads (the broker sends many more). */
export interface TopicStats {
  msgInCounter: number;
  msgOutCounter: number;
  bytesInCounter: number;
  bytesOutCounter: number;
  storageSize: number;
  backlogSize: number;
  publishers: { producerName?: string; msgRateIn?: number }[];
  subscriptions: Record<string, SubscriptionStats>;
}

export interface SubscriptionStats {
  msgBacklog: number;
  msgOutCounter: number;
  unackedMessages: number;
  type?: string;
  consumers: unknown[];
}

/** "persistent://t/ns/x", "t/ns/x" → its parts; other forms are a caller's bug. */
export function parseTopic(topic: string): { domain: string; tenant: string; namespace: string; local: string } {
  const m = /^(?:(persistent|non-persistent):\/\/)?([^/]+)\/([^/]+)\/([^/]+)$/.exec(topic);
  if (!m) throw new BusbenchError('BROKER', `pulsar: not a topic name: ${JSON.stringify(topic)} (expected [persistent://]tenant/namespace/topic)`);
  return { domain: m[1] ?? 'persistent', tenant: m[2] as string, namespace: m[3] as string, local: m[4] as string };
}

function topicPath(topic: string): string {
  const t = parseTopic(topic);
  return `/admin/v2/${t.domain}/${enc(t.tenant)}/${enc(t.namespace)}/${enc(t.local)}`;
}

/** "t/ns" → "t/ns" URL-encoded, or a BROKER error for anything else. */
function nsSegments(namespace: string): string {
  const [tenant, ns, extra] = namespace.split('/');
  if (!tenant || !ns || extra !== undefined) throw new BusbenchError('BROKER', `pulsar: not a namespace: ${JSON.stringify(namespace)} (expected tenant/namespace)`);
  return `${enc(tenant)}/${enc(ns)}`;
}

function nsPath(namespace: string): string {
  return `/admin/v2/namespaces/${nsSegments(namespace)}`;
}

const enc = encodeURIComponent;

export class PulsarAdmin {
  /** @param baseUrl e.g. "http://127.0.0.1:8080" */
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = 30_000,
    /** token authentication: sent as "Authorization: Bearer <token>" ('' = none) */
    private readonly token = '',
  ) {}

  async clusters(): Promise<string[]> {
    return (await this.call('GET', '/admin/v2/clusters')) as string[];
  }

  /** The broker's version string, e.g. "4.0.8". */
  async version(): Promise<string> {
    return String(await this.call('GET', '/admin/v2/brokers/version'));
  }

  /** Resolves once the broker can write and read a message (its own heartbeat topic). */
  async healthy(): Promise<boolean> {
    try {
      return String(await this.call('GET', '/admin/v2/brokers/health')).trim() === 'ok';
    } catch {
      return false;
    }
  }

  async tenants(): Promise<string[]> {
    return (await this.call('GET', '/admin/v2/tenants')) as string[];
  }

  /** Creates a tenant allowed on `clusters`; an existing tenant is left as it is. */
  async createTenant(tenant: string, clusters: string[]): Promise<void> {
    await this.ignoring(409, () => this.call('PUT', `/admin/v2/tenants/${enc(tenant)}`, { adminRoles: [], allowedClusters: clusters }));
  }

  async deleteTenant(tenant: string): Promise<void> {
    await this.ignoring(404, () => this.call('DELETE', `/admin/v2/tenants/${enc(tenant)}`));
  }

  /** Namespaces of a tenant, as "tenant/ns". */
  async namespaces(tenant: string): Promise<string[]> {
    return (await this.call('GET', `/admin/v2/namespaces/${enc(tenant)}`)) as string[];
  }

  /**
   * Creates "tenant/ns" (kept if it exists). `deduplication` sets the namespace policy,
   * which overrides the broker's brokerDeduplicationEnabled for its topics.
   */
  async createNamespace(namespace: string, opts: { deduplication?: boolean } = {}): Promise<void> {
    await this.ignoring(409, () => this.call('PUT', nsPath(namespace)));
    if (opts.deduplication !== undefined) await this.call('POST', `${nsPath(namespace)}/deduplication`, opts.deduplication);
  }

  /** Deletes a namespace and, with force, every topic in it. */
  async deleteNamespace(namespace: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.ignoring(404, () => this.call('DELETE', `${nsPath(namespace)}${opts.force ? '?force=true' : ''}`));
  }

  /** Persistent topics of a namespace, with partitions listed one by one ("…-partition-0"). */
  async topics(namespace: string): Promise<string[]> {
    return (await this.call('GET', `/admin/v2/persistent/${nsSegments(namespace)}`)) as string[];
  }

  /** Partitioned topics of a namespace (their base names). */
  async partitionedTopics(namespace: string): Promise<string[]> {
    return (await this.call('GET', `/admin/v2/persistent/${nsSegments(namespace)}/partitioned`)) as string[];
  }

  /** Creates a topic: non-partitioned when `partitions` is 0 (the default). */
  async createTopic(topic: string, partitions = 0): Promise<void> {
    if (partitions > 0) await this.call('PUT', `${topicPath(topic)}/partitions`, partitions);
    else await this.call('PUT', topicPath(topic));
  }

  /** Number of partitions; 0 for a non-partitioned topic. */
  async partitions(topic: string): Promise<number> {
    const meta = (await this.call('GET', `${topicPath(topic)}/partitions`)) as { partitions?: number };
    return meta.partitions ?? 0;
  }

  /** Deletes a topic (all partitions of a partitioned one); force also drops its producers and consumers. */
  async deleteTopic(topic: string, opts: { force?: boolean } = {}): Promise<void> {
    const q = opts.force ? '?force=true' : '';
    const partitioned = (await this.ignoring(404, () => this.partitions(topic))) ?? 0;
    await this.ignoring(404, () => this.call('DELETE', `${topicPath(topic)}${partitioned > 0 ? '/partitions' : ''}${q}`));
  }

  /** Creates a durable subscription, so messages published before any consumer are kept. */
  async createSubscription(topic: string, subscription: string, position: 'earliest' | 'latest' = 'earliest'): Promise<void> {
    // The admin CLI's MessageId.earliest; without a body the broker starts at the latest.
    const body = position === 'earliest' ? { ledgerId: -1, entryId: -1, partitionIndex: -1 } : undefined;
    await this.ignoring(409, () => this.call('PUT', `${topicPath(topic)}/subscription/${enc(subscription)}`, body));
  }

  /**
   * Stats of a topic; for a partitioned topic, the sum over its partitions. Counters
   * (msgInCounter, msgOutCounter) restart from zero when the broker restarts; backlogs
   * (msgBacklog) are rebuilt from storage.
   */
  async topicStats(topic: string): Promise<TopicStats> {
    const partitioned = await this.partitions(topic);
    const raw = (await this.call('GET', `${topicPath(topic)}/${partitioned > 0 ? 'partitioned-stats' : 'stats'}`)) as Partial<TopicStats>;
    return {
      msgInCounter: raw.msgInCounter ?? 0,
      msgOutCounter: raw.msgOutCounter ?? 0,
      bytesInCounter: raw.bytesInCounter ?? 0,
      bytesOutCounter: raw.bytesOutCounter ?? 0,
      storageSize: raw.storageSize ?? 0,
      backlogSize: raw.backlogSize ?? 0,
      publishers: raw.publishers ?? [],
      subscriptions: Object.fromEntries(
        Object.entries(raw.subscriptions ?? {}).map(([name, s]) => [
          name,
          { msgBacklog: s.msgBacklog ?? 0, msgOutCounter: s.msgOutCounter ?? 0, unackedMessages: s.unackedMessages ?? 0, type: s.type, consumers: s.consumers ?? [] },
        ]),
      ),
    };
  }

  /**
   * Per partition of a partitioned topic, in partition order: messages in, and messages
   * out to `subscription` (counters since the broker started, as in topicStats).
   */
  async partitionCounters(topic: string, subscription: string): Promise<Array<{ msgInCounter: number; subscriptionMsgOutCounter: number }>> {
    type Stats = { msgInCounter?: number; subscriptions?: Record<string, { msgOutCounter?: number }> };
    const raw = (await this.call('GET', `${topicPath(topic)}/partitioned-stats?perPartition=true`)) as { partitions?: Record<string, Stats> };
    const index = (name: string): number => Number(/-partition-(\d+)$/.exec(name)?.[1] ?? -1);
    return Object.entries(raw.partitions ?? {})
      .sort(([a], [b]) => index(a) - index(b))
      .map(([, st]) => ({ msgInCounter: st.msgInCounter ?? 0, subscriptionMsgOutCounter: st.subscriptions?.[subscription]?.msgOutCounter ?? 0 }));
  }

  /** One admin request; resolves to the parsed JSON body (or text, or undefined when empty). */
  async call(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new PulsarAdminError(method, path, res.status, reasonOf(text));
    if (!text) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }

  private async ignoring<T>(status: number, f: () => Promise<T>): Promise<T | undefined> {
    try {
      return await f();
    } catch (err) {
      if (err instanceof PulsarAdminError && err.status === status) return undefined;
      throw err;
    }
  }
}

/**
 * What a freshly started Pulsar still lacks before clients can use it, or '' once ready.
 * A standalone broker creates its cluster, then public/default, then (with transactions)
 * the transaction-coordinator topic, and only then can serve everything. The coordinator
 * itself loads when the first transactional client connects, so it cannot be awaited here.
 */
export async function notReadyReason(admin: PulsarAdmin, opts: { cluster?: string; transactions: boolean }): Promise<string> {
  try {
    const clusters = await admin.clusters();
    if (opts.cluster ? !clusters.includes(opts.cluster) : clusters.length === 0) return `cluster ${opts.cluster ?? '(any)'} not created yet`;
    if (!(await admin.namespaces('public')).includes('public/default')) return 'namespace public/default not created yet';
    if (opts.transactions && (await admin.partitions(TC_ASSIGN_TOPIC)) < 1) return `transaction coordinator topic ${TC_ASSIGN_TOPIC} not created yet`;
    if (!(await admin.healthy())) return 'broker health check (write and read of its heartbeat topic) not passing yet';
    return '';
  } catch (err) {
    return `admin API not answering (${err instanceof Error ? err.message : String(err)})`;
  }
}

export const TC_ASSIGN_TOPIC = 'persistent://pulsar/system/transaction_coordinator_assign';

function reasonOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { reason?: unknown };
    // Server errors carry a whole Java stack trace in `reason`; the first lines say it.
    if (typeof parsed.reason === 'string') return parsed.reason.trim().split('\n').slice(0, 3).join(' ').slice(0, 400);
  } catch {
    /* not JSON */
  }
  return body.slice(0, 400);
}
