/** Kill targets: which processes each takes, and each system's refusal of names it does not run (exit 2, before anything starts). */
import { describe, expect, it } from 'vitest';
import { nodesOf } from '../../src/core/fault-target.ts';
import type { RunShape } from '../../src/core/contract.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { adapter as nats } from '../../src/adapters/nats/index.ts';
import { adapter as pulsar } from '../../src/adapters/pulsar/index.ts';
import { adapter as ring } from '../../src/adapters/ringbuffer/index.ts';
import { clusterNodeNames } from '../../src/brokers/pulsar/cluster-config.ts';

const PULSAR = clusterNodeNames();

describe('kill targets', () => {
  it('take every node, one, or a majority of every role', () => {
    expect(PULSAR).toEqual(['zk-1', 'zk-2', 'zk-3', 'bookie-1', 'bookie-2', 'bookie-3', 'broker-1', 'broker-2', 'broker-3']);
    expect(nodesOf('all', PULSAR)).toEqual(PULSAR);
    expect(nodesOf({ node: 'bookie-2' }, PULSAR)).toEqual(['bookie-2']);
    expect(nodesOf('majority', PULSAR)).toEqual(['zk-1', 'zk-2', 'bookie-1', 'bookie-2', 'broker-1', 'broker-2']);
    expect(nodesOf('majority', ['nats-1', 'nats-2', 'nats-3'])).toEqual(['nats-1', 'nats-2']);
  });

  const shape = (target: NonNullable<Extract<RunShape['fault'], { type: 'kill' }>>['target'], brokers: RunShape['brokers'] = 'native'): RunShape => ({ producers: 1, consumers: 1, messageSize: 512, stages: 1, brokers, fault: { type: 'kill', ...(target ? { target } : {}) } });
  const refusal = (f: () => void): string => {
    try {
      f();
    } catch (e) {
      if (e instanceof ConfigError) return e.message;
      throw e;
    }
    return 'accepted';
  };

  it('are refused where the deployment does not run that node', () => {
    const natsCluster = nats.parseOptions({ topology: 'cluster3', replicas: 3 }, 'x');
    const natsSingle = nats.parseOptions({}, 'x');
    expect(refusal(() => nats.checkRun!(natsCluster, shape({ node: 'nats-2' }), 'x.yaml'))).toBe('accepted');
    expect(refusal(() => nats.checkRun!(natsCluster, shape('majority'), 'x.yaml'))).toBe('accepted');
    expect(refusal(() => nats.checkRun!(natsCluster, shape({ node: 'nats-4' }), 'x.yaml'))).toBe('x.yaml: fault.kill: expected all, majority or one of nats-1, nats-2, nats-3, got "nats-4"');
    expect(refusal(() => nats.checkRun!(natsCluster, shape({ node: 'bookie-1' }), 'x.yaml'))).toMatch(/fault\.kill: expected all, majority or one of nats-1/);
    expect(refusal(() => nats.checkRun!(natsSingle, shape('majority'), 'x.yaml'))).toBe('x.yaml: fault.kill: expected all (one server; nats.topology cluster3 runs nats-1..3), got "majority"');
    expect(refusal(() => nats.checkRun!(natsCluster, shape({ node: 'nats-1' }, 'compose'), 'x.yaml'))).toMatch(/expected all \(busbench kills single nodes only of servers it runs, --brokers native\)/);

    const standalone = pulsar.parseOptions({}, 'x');
    const cluster = pulsar.parseOptions({ topology: 'cluster' }, 'x');
    expect(refusal(() => pulsar.checkRun!(cluster, shape({ node: 'bookie-1' }), 'x.yaml'))).toBe('accepted');
    expect(refusal(() => pulsar.checkRun!(cluster, shape('all'), 'x.yaml'))).toBe('accepted');
    expect(refusal(() => pulsar.checkRun!(cluster, shape({ node: 'nats-2' }), 'x.yaml'))).toMatch(/fault\.kill: expected all, majority or one of zk-1, .*broker-3, got "nats-2"/);
    expect(refusal(() => pulsar.checkRun!(standalone, shape({ node: 'bookie-1' }), 'x.yaml'))).toBe('x.yaml: fault.kill: expected all (the standalone is one JVM; pulsar.topology cluster runs zk-1..3, bookie-1..3, broker-1..3), got "bookie-1"');
    expect(refusal(() => pulsar.checkRun!(cluster, shape(undefined, 'compose'), 'x.yaml'))).toMatch(/pulsar\.topology: expected "standalone" with --brokers compose/);

    const r = ring.parseOptions({ process: 'child' }, 'x');
    expect(refusal(() => ring.checkRun!(r, shape('majority'), 'x.yaml'))).toBe('x.yaml: fault.kill: expected all (the ring server is one process), got "majority"');
  });
});

describe('pulsar topology and quorums', () => {
  it('default to 3/3/2 on a cluster and 1/1/1 on a standalone, and refuse quorums BookKeeper cannot run', () => {
    expect(pulsar.parseOptions({ topology: 'cluster' }, 'x')).toMatchObject({ topology: 'cluster', ensembleSize: 3, writeQuorum: 3, ackQuorum: 2 });
    expect(pulsar.parseOptions({ topology: 'cluster', ensembleSize: 2, writeQuorum: 2, ackQuorum: 2 }, 'x')).toMatchObject({ ensembleSize: 2, writeQuorum: 2, ackQuorum: 2 });
    expect(() => pulsar.parseOptions({ topology: 'cluster', ackQuorum: 3, writeQuorum: 2, ensembleSize: 3 }, 'x.yaml')).toThrow('x.yaml: pulsar.ackQuorum: expected ackQuorum <= writeQuorum <= ensembleSize <= 3 (ackQuorum 3 > writeQuorum 2), got "3/2/3"');
    expect(() => pulsar.parseOptions({ topology: 'cluster', ensembleSize: 4 }, 'x.yaml')).toThrow(/pulsar\.ensembleSize: expected .*3/);
    expect(() => pulsar.parseOptions({ ensembleSize: 3 }, 'x.yaml')).toThrow(/pulsar\.ensembleSize: expected .*1/);
    expect(() => pulsar.parseOptions({ topology: 'ring' }, 'x.yaml')).toThrow(/pulsar\.topology: expected .*standalone.*cluster/);
    expect(() => pulsar.parseOptions({ broker: { managedLedgerDefaultAckQuorum: 1 } }, 'x.yaml')).toThrow(/use pulsar\.ackQuorum/);
  });
});
