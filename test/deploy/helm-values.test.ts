/**
 * The Helm values in deploy/kubernetes/ describe the clusters the README promises (a
 * 3-node JetStream cluster; Pulsar's 3 ZooKeeper + 3 bookies + 3 brokers) on the broker
 * releases busbench runs elsewhere, with the durability settings of docker-compose.yml.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { NATS_SERVER_VERSION } from '../../src/brokers/nats/install.ts';
import { PULSAR_VERSION } from '../../src/brokers/pulsar/install.ts';
import { DEFAULT_URLS } from '../../src/deploy/kubernetes/flags.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
type Doc = Record<string, unknown>;
const load = (file: string): Doc => YAML.parse(fs.readFileSync(path.join(ROOT, file), 'utf8')) as Doc;
const at = (doc: unknown, dotted: string): unknown => dotted.split('.').reduce<unknown>((o, k) => (o as Doc | undefined)?.[k], doc);

describe('Helm values', () => {
  it('NATS: a 3-node JetStream cluster on file storage, on the nats-server release busbench pins', () => {
    const v = load('deploy/kubernetes/nats-values.yaml');
    expect(at(v, 'config.cluster.enabled')).toBe(true);
    expect(at(v, 'config.cluster.replicas')).toBe(3);
    expect(at(v, 'config.jetstream.enabled')).toBe(true);
    expect(at(v, 'config.jetstream.fileStore.enabled')).toBe(true);
    expect(at(v, 'config.jetstream.fileStore.pvc.enabled')).toBe(true);
    expect(at(v, 'config.jetstream.memoryStore.enabled')).toBe(false);
    expect(at(v, 'container.image.tag')).toBe(`${NATS_SERVER_VERSION}-alpine`);
    expect(at(v, 'podTemplate.topologySpreadConstraints')).toHaveProperty(['kubernetes.io/hostname', 'whenUnsatisfiable'], 'DoNotSchedule');
  });

  it('Pulsar: 3 ZooKeeper + 3 bookies + 3 brokers, one per node, on the release and quorums of docker-compose.yml', () => {
    const v = load('deploy/kubernetes/pulsar-values.yaml');
    expect([at(v, 'zookeeper.replicaCount'), at(v, 'bookkeeper.replicaCount'), at(v, 'broker.replicaCount')]).toEqual([3, 3, 3]);
    expect(at(v, 'components')).toMatchObject({ zookeeper: true, bookkeeper: true, broker: true, proxy: false });
    expect(at(v, 'affinity')).toEqual({ anti_affinity: true, type: 'requiredDuringSchedulingIgnoredDuringExecution' });
    expect(at(v, 'defaultPulsarImageTag')).toBe(PULSAR_VERSION);

    const compose = load('docker-compose.yml');
    const services = at(compose, 'services') as Record<string, { environment?: Doc }>;
    const quorumKeys = ['managedLedgerDefaultEnsembleSize', 'managedLedgerDefaultWriteQuorum', 'managedLedgerDefaultAckQuorum'];
    const composeBrokers = Object.values(services).map((s) => s.environment ?? {}).filter((env) => quorumKeys.every((k) => k in env));
    expect(composeBrokers).toHaveLength(3);
    for (const env of composeBrokers) for (const k of quorumKeys) expect(at(v, `broker.configData.${k}`), k).toBe(env[k]);
  });

  it("the releases' service addresses are the kube CLI's default broker URLs", () => {
    // release "nats" → service nats; release "pulsar" (it contains the chart's name) → pulsar-broker
    for (const [file, release] of [['nats-values.yaml', 'nats'], ['pulsar-values.yaml', 'pulsar']] as const) {
      expect(fs.readFileSync(path.join(ROOT, 'deploy/kubernetes', file), 'utf8')).toContain(`helm install ${release} `);
    }
    expect(DEFAULT_URLS).toEqual({ nats: 'nats://nats:4222', pulsar: 'pulsar://pulsar-broker:6650' });
  });
});
