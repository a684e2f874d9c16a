import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { COMPOSE_NATS_SERVICES } from '../../src/brokers/compose/nats.ts';

interface Service {
  image?: string;
  command?: string[] | string;
  ports?: string[];
  healthcheck?: { test: string[] | string };
  profiles?: string[];
}

const file = path.resolve(import.meta.dirname, '../../docker-compose.yml');
const doc = YAML.parse(fs.readFileSync(file, 'utf8')) as { services: Record<string, Service> };

describe('docker-compose.yml', () => {
  it('binds every published port to 127.0.0.1', () => {
    for (const [name, svc] of Object.entries(doc.services)) {
      for (const p of svc.ports ?? []) expect(p, `${name}: ${p}`).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
  });

  it('has a 3-node NATS JetStream cluster with routes to each other and healthchecks', () => {
    const ports = new Set<string>();
    for (const name of COMPOSE_NATS_SERVICES) {
      const svc = doc.services[name]!;
      expect(svc, name).toBeDefined();
      const cmd = (svc.command as string[]).join(' ');
      expect(cmd).toContain('--jetstream');
      expect(cmd).toContain('--cluster_name busbench');
      for (const other of COMPOSE_NATS_SERVICES.filter((o) => o !== name)) expect(cmd).toContain(`nats://${other}:6222`);
      expect(JSON.stringify(svc.healthcheck?.test)).toContain('healthz');
      for (const p of svc.ports!) ports.add(p.split(':')[1]!);
    }
    expect(ports.size).toBe(6);
  });

  it('has Pulsar standalone by default and the reference cluster behind a profile', () => {
    expect(doc.services.pulsar?.profiles).toBeUndefined();
    expect(JSON.stringify(doc.services.pulsar?.command)).toContain('standalone');
    const cluster = Object.entries(doc.services).filter(([, s]) => s.profiles?.includes('cluster')).map(([n]) => n);
    expect(cluster.filter((n) => n.startsWith('pulsar-broker'))).toHaveLength(3);
    expect(cluster.filter((n) => n.startsWith('pulsar-bookie'))).toHaveLength(3);
    expect(cluster.filter((n) => n.startsWith('pulsar-zk'))).toHaveLength(3);
  });
});
