/**
 * The configuration files of a native Pulsar cluster: three ZooKeeper nodes, three
 * bookies and three brokers on 127.0.0.1, each file the distribution's own
 * (conf/zookeeper.conf, conf/bookkeeper.conf, conf/broker.conf) with our settings written
 * over it (mergeProperties). Pure, so a test reads what a cluster would run with.
 *
 * ZooKeeper rather than Oxia: Pulsar 4.0 also supports Oxia as its metadata store, but
 * the distribution ships no Oxia server, while ZooKeeper is in it and is what Pulsar's
 * own deployment guide and the reference docker-compose cluster use.
 */
import type { ConfValue } from './config.ts';
import { loopbackInterface } from './config.ts';

export const CLUSTER_NAME = 'busbench';
export const CLUSTER_SIZE = 3;

/** The nodes of a cluster as kill targets name them: zk-1..3, bookie-1..3, broker-1..3. */
export function clusterNodeNames(): string[] {
  return ['zk', 'bookie', 'broker'].flatMap((role) => Array.from({ length: CLUSTER_SIZE }, (_, i) => `${role}-${i + 1}`));
}

export interface ZkPorts {
  client: number;
  peer: number;
  election: number;
  metrics: number;
}

export interface BookiePorts {
  bookie: number;
  metrics: number;
}

export interface BrokerPorts {
  broker: number;
  web: number;
}

export interface ClusterPorts {
  zk: ZkPorts[];
  bookies: BookiePorts[];
  brokers: BrokerPorts[];
}

/** ensemble, write quorum and ack quorum of every ledger the brokers create */
export interface Replication {
  ensembleSize: number;
  writeQuorum: number;
  ackQuorum: number;
}

export const DEFAULT_REPLICATION: Replication = { ensembleSize: 3, writeQuorum: 3, ackQuorum: 2 };

/** "zk:127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3", the brokers' metadata store URL */
export function zkConnect(ports: ClusterPorts): string {
  return `zk:${ports.zk.map((z) => `127.0.0.1:${z.client}`).join(',')}`;
}

/** zookeeper.conf of node `i` (0-based); its myid file holds i+1. */
export function zkSettings(i: number, ports: ClusterPorts, dataDir: string): Record<string, ConfValue> {
  const own = ports.zk[i]!;
  const servers = Object.fromEntries(ports.zk.map((z, k) => [`server.${k + 1}`, `127.0.0.1:${z.peer}:${z.election}`]));
  return {
    dataDir,
    clientPort: own.client,
    clientPortAddress: '127.0.0.1',
    // the shipped file turns on the admin server (port 9990) and metrics on port 8000:
    // shared ports that a second node, or a second run, could not take
    'admin.enableServer': false,
    'metricsProvider.httpHost': '127.0.0.1',
    'metricsProvider.httpPort': own.metrics,
    ...servers,
  };
}

export interface BookieSettings {
  ports: ClusterPorts;
  /** 0-based */
  index: number;
  journalDir: string;
  ledgersDir: string;
  journalSync: boolean;
}

/** bookkeeper.conf of bookie `index`. */
export function bookieSettings(s: BookieSettings): Record<string, ConfValue> {
  const own = s.ports.bookies[s.index]!;
  return {
    bookiePort: own.bookie,
    advertisedAddress: '127.0.0.1',
    listeningInterface: loopbackInterface(),
    allowLoopback: true,
    useHostNameAsBookieID: false,
    // Pulsar's metadata driver (bin/pulsar loads it), as the reference docker-compose cluster has it
    metadataServiceUri: `metadata-store:${zkConnect(s.ports)}`,
    zkServers: s.ports.zk.map((z) => `127.0.0.1:${z.client}`).join(','),
    journalDirectory: s.journalDir,
    ledgerDirectories: s.ledgersDir,
    journalSyncData: s.journalSync,
    prometheusStatsHttpAddress: '127.0.0.1',
    prometheusStatsHttpPort: own.metrics,
    httpServerEnabled: false,
    // the caches default to a quarter of direct memory each; stated rather than derived
    dbStorage_writeCacheMaxSizeMb: 64,
    dbStorage_readAheadCacheMaxSizeMb: 32,
    dbStorage_rocksDB_blockCacheSize: 16 * 1024 * 1024,
  };
}

export interface ClusterBrokerSettings {
  ports: ClusterPorts;
  index: number;
  replication: Replication;
  deduplication: boolean;
  transactions: boolean;
  narDir: string;
}

/** broker.conf of broker `index`. */
export function brokerSettings(s: ClusterBrokerSettings): Record<string, ConfValue> {
  const own = s.ports.brokers[s.index]!;
  const zk = zkConnect(s.ports);
  return {
    clusterName: CLUSTER_NAME,
    metadataStoreUrl: zk,
    configurationMetadataStoreUrl: zk,
    bindAddress: '127.0.0.1',
    advertisedAddress: '127.0.0.1',
    brokerServicePort: own.broker,
    webServicePort: own.web,
    managedLedgerDefaultEnsembleSize: s.replication.ensembleSize,
    managedLedgerDefaultWriteQuorum: s.replication.writeQuorum,
    managedLedgerDefaultAckQuorum: s.replication.ackQuorum,
    brokerDeduplicationEnabled: s.deduplication,
    transactionCoordinatorEnabled: s.transactions,
    systemTopicEnabled: true,
    functionsWorkerEnabled: false,
    narExtractionDirectory: s.narDir,
    // a fifth of direct memory by default; stated so a reader knows what the broker caches
    managedLedgerCacheSizeMB: 64,
  };
}

/** `bin/pulsar initialize-cluster-metadata` arguments, run once before the first start. */
export function initializeArgs(ports: ClusterPorts): string[] {
  const zk = zkConnect(ports);
  return [
    'initialize-cluster-metadata',
    '--cluster',
    CLUSTER_NAME,
    '--metadata-store',
    zk,
    '--configuration-metadata-store',
    zk,
    '--web-service-url',
    `http://${ports.brokers.map((b) => `127.0.0.1:${b.web}`).join(',')}`,
    '--broker-service-url',
    `pulsar://${ports.brokers.map((b) => `127.0.0.1:${b.broker}`).join(',')}`,
  ];
}

/** Why these quorums cannot run on `bookies` bookies, or undefined: BookKeeper needs ack ≤ write ≤ ensemble ≤ bookies. */
export function replicationProblem(r: Replication, bookies = CLUSTER_SIZE): string | undefined {
  if (r.ensembleSize > bookies) return `ensembleSize ${r.ensembleSize} > the ${bookies} bookies`;
  if (r.writeQuorum > r.ensembleSize) return `writeQuorum ${r.writeQuorum} > ensembleSize ${r.ensembleSize}`;
  if (r.ackQuorum > r.writeQuorum) return `ackQuorum ${r.ackQuorum} > writeQuorum ${r.writeQuorum}`;
  return undefined;
}
