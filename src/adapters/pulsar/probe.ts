/**
 * The cluster's readiness probe (NativePulsarCluster's `probe`): a write and read of a
 * topic by our own client through one broker's service URL. Subscribing (non-durably, at
 * the end) before the write means the read finds this write, whatever the topic held.
 */
import { PulsarClient } from './wire/index.ts';

const PROBE_TIMEOUT_MS = 30_000;

export async function writeAndRead(serviceUrl: string, topic: string): Promise<void> {
  const client = new PulsarClient({ serviceUrl, operationTimeoutMs: PROBE_TIMEOUT_MS });
  try {
    const reader = await client.subscribe({ topic, subscription: `busbench-probe-${Date.now()}`, durable: false, initialPosition: 'latest' });
    const producer = await client.createProducer({ topic, batching: false, sendTimeoutMs: PROBE_TIMEOUT_MS });
    const text = `busbench probe ${process.pid} ${Date.now()}`;
    await producer.send(new TextEncoder().encode(text));
    const got = await reader.receive(PROBE_TIMEOUT_MS);
    if (!got) throw new Error(`${serviceUrl}: the message written to ${topic} was not read back within ${PROBE_TIMEOUT_MS / 1000} s`);
    const back = new TextDecoder().decode(got.data);
    if (back !== text) throw new Error(`${serviceUrl}: read back ${JSON.stringify(back)} from ${topic}, wrote ${JSON.stringify(text)}`);
  } finally {
    await client.close();
  }
}
