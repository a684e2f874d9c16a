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
    Number.isInteger(c.parentPid);
  if (!ok) throw new BusbenchError('BROKER', `ring server: bad configuration argument ${arg ?? '(none)'}`);
  return c as ServerConfig;
}
