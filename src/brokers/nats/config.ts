/**
 * nats-server configuration files for the harness's own servers. Ours, not the server's
 * defaults: everything on 127.0.0.1, every node with its own ports and store directory,
 * so that runs (and engineers) on one host never meet.
 */
import path from 'node:path';

export interface NatsNodePlan {
  /** server_name, also the name of its store directory */
  name: string;
  clientPort: number;
  clusterPort: number;
  monitorPort: number;
}

export interface NatsServerSettings {
  /** JetStream store directories live under it, one per node */
  dataDir: string;
  /** jetstream.sync_interval: "default" leaves the server's (2 min), else "always" or a duration */
  syncInterval: string;
  /** jetstream.max_buffered_msgs: the per-stream ingest queue beyond which publishes get 429 */
  maxBufferedMsgs?: number;
}

export const CLUSTER_NAME = 'busbench';

export function storeDir(settings: NatsServerSettings, node: NatsNodePlan): string {
  return path.join(settings.dataDir, node.name);
}

/** The config file of `node`; `all` holds every node of the topology (itself included). */
export function natsServerConfig(node: NatsNodePlan, all: NatsNodePlan[], settings: NatsServerSettings): string {
  const lines = [
    `server_name: ${node.name}`,
    `listen: 127.0.0.1:${node.clientPort}`,
    `http: 127.0.0.1:${node.monitorPort}`,
    // the envelope goes up to 1 MiB; the server's default max_payload is exactly that
    'max_payload: 8MB',
    'jetstream {',
    `  store_dir: ${JSON.stringify(storeDir(settings, node))}`,
    // explicit limits: the default (75 % of RAM / disk) varies with the host
    '  max_memory_store: 4GB',
    '  max_file_store: 20GB',
    ...(settings.syncInterval !== 'default' ? [`  sync_interval: ${settings.syncInterval}`] : []),
    ...(settings.maxBufferedMsgs !== undefined ? [`  max_buffered_msgs: ${settings.maxBufferedMsgs}`] : []),
    '}',
  ];
  if (all.length > 1) {
    const routes = all.filter((o) => o !== node).map((o) => `nats-route://127.0.0.1:${o.clusterPort}`);
    lines.push('cluster {', `  name: ${CLUSTER_NAME}`, `  listen: 127.0.0.1:${node.clusterPort}`, `  routes: [${routes.join(', ')}]`, '}');
  }
  return lines.join('\n') + '\n';
}
