/**
 * A service URL naming several brokers (a cluster's): lookups must go on while the first
 * of them is down, as the Java client's do. Before busbench read every host, it took the
 * first one only, so a kill of broker-1 stopped every lookup until broker-1 came back.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PulsarClient } from '../../src/adapters/pulsar/wire/client.ts';
import { serviceHosts } from '../../src/adapters/pulsar/wire/transport.ts';
import { ScriptedBroker } from './scripted-broker.ts';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

/** A port nothing listens on: bound, then closed. */
async function deadPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('a service URL with several hosts', () => {
  it('reads every host, with the default port where one is left out', () => {
    expect(serviceHosts('pulsar://a:1,b:2,c')).toEqual([
      { host: 'a', port: 1, tls: false },
      { host: 'b', port: 2, tls: false },
      { host: 'c', port: 6650, tls: false },
    ]);
    expect(serviceHosts('pulsar+ssl://a,b:7').map((h) => h.port)).toEqual([6651, 7]);
  });

  it('looks up through the next host when the first one is down', { timeout: 10_000 }, async () => {
    const b = await ScriptedBroker.start();
    open.push(b);
    const c = new PulsarClient({ serviceUrl: `pulsar://127.0.0.1:${await deadPort()},127.0.0.1:${b.port}`, operationTimeoutMs: 3_000 });
    open.push(c);
    await expect(c.lookup('persistent://t/ns/topic')).resolves.toMatchObject({ logical: expect.stringContaining(String(b.port)) });
    expect(await c.partitionCount('persistent://t/ns/topic')).toBe(0);
  });
});
