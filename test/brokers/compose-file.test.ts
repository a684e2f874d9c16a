import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { COMPOSE_NATS_SERVICES, ComposeNats } from '../../src/brokers/nats/compose.ts';
import { NATS_SERVER_VERSION } from '../../src/brokers/nats/install.ts';

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
    const published = Object.entries(doc.services).flatMap(([name, svc]) => (svc.ports ?? []).map((p) => `${name}: ${p}`));
    // a file that published nothing would pass the check below without checking anything
    expect(published.length).toBeGreaterThan(0);
    for (const p of published) expect(p).toMatch(/: 127\.0\.0\.1:\d+:\d+$/);
  });

  it('has a 3-node NATS JetStream cluster: pinned image, JetStream on, routes to each other, healthchecks', () => {
    const clientPorts: number[] = [];
    for (const name of COMPOSE_NATS_SERVICES) {
      const svc = doc.services[name]!;
      expect(svc, name).toBeDefined();
      expect(svc.image).toBe(`nats:${NATS_SERVER_VERSION}-alpine`);
      expect(svc.profiles).toBeUndefined();
      const cmd = svc.command as string[];
      expect(cmd[0]).toBe('nats-server');
      const flag = (f: string): string | undefined => (cmd.includes(f) ? cmd[cmd.indexOf(f) + 1] : undefined);
      expect(cmd).toContain('--jetstream');
      expect(flag('--name')).toBe(name);
      expect(flag('--store_dir')).toBe('/data');
      expect(flag('--http_port')).toBe('8222');
      expect(flag('--cluster_name')).toBe('busbench');
      expect(flag('--cluster')).toBe('nats://0.0.0.0:6222');
      const routes = flag('--routes')!.split(',').sort();
      expect(routes).toEqual(COMPOSE_NATS_SERVICES.filter((o) => o !== name).map((o) => `nats://${o}:6222`));
      // healthy = JetStream ready with a meta leader, checked inside the container
      const test = svc.healthcheck!.test as string[];
      expect(test.join(' ')).toContain('http://127.0.0.1:8222/healthz');
      expect(test.join(' ')).not.toContain('js-enabled-only');
      const published = svc.ports!.map((p) => p.split(':'));
      expect(published.map(([, , inner]) => inner).sort()).toEqual(['4222', '8222']);
      clientPorts.push(Number(published.find(([, , inner]) => inner === '4222')![1]));
    }
    // what ComposeNats connects to
    expect(new ComposeNats().urls()).toEqual(clientPorts.map((p) => `nats://127.0.0.1:${p}`));
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
