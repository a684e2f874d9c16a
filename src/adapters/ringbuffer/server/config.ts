import { BusbenchError } from '../../../core/errors.ts';

/** What the ring server is started with: one JSON argument, written by server-process.ts. */
export interface ServerConfig {
  host: string;
  port: number;
  /** journal segments and commit files live here (journal fsync only) */
  dataDir: string;
  /** stages * producers; lane = stage * producers + origin producer */
  lanes: number;
  /** payload bytes a lane holds before publishes wait for the consumer */
  capacity: number;
  journal: 'none' | 'fsync';
  dedup: boolean;
  /** the harness: the server exits when it is gone, so that none outlives it */
  parentPid: number;
  /** replicas: 2 only; absent: a lone server, listening on `port` from the start */
  replica?: ReplicaConfig;
}

/**
 * One of two ring servers on the host. The primary listens on `port` for clients and
 * streams every append to the secondary's replication port; the secondary listens only
 * on its own replication port until it takes over (then on `port`, and it streams to the
 * other's replication port in turn).
 */
export interface ReplicaConfig {
  role: 'primary' | 'secondary';
  /** where this server listens for its primary while it is a secondary */
  replPort: number;
  /** the other server's replication port, where this one streams while it is the primary */
  peerReplPort: number;
}

function validReplica(r: Partial<ReplicaConfig> | undefined): boolean {
  return r === undefined || ((r.role === 'primary' || r.role === 'secondary') && Number.isInteger(r.replPort) && Number.isInteger(r.peerReplPort));
}

export function parseServerConfig(arg: string | undefined): ServerConfig {
  const c = JSON.parse(arg ?? 'null') as Partial<ServerConfig> | null;
  const ok =
    c !== null &&
    typeof c.host === 'string' &&
    Number.isInteger(c.port) &&
    typeof c.dataDir === 'string' &&
    Number.isInteger(c.lanes) &&
    (c.lanes ?? 0) >= 1 &&
    Number.isInteger(c.capacity) &&
    (c.journal === 'none' || c.journal === 'fsync') &&
    typeof c.dedup === 'boolean' &&
    Number.isInteger(c.parentPid) &&
    validReplica(c.replica);
  if (!ok) throw new BusbenchError('BROKER', `ring server: bad configuration argument ${arg ?? '(none)'}`);
  return c as ServerConfig;
}
