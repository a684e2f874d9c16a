/** NATS connections as the harness needs them: surviving broker restarts, closing in bounded time. */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';

export function connectNats(servers: string[], name: string): Promise<NatsConnection> {
  return connect({
    servers,
    name,
    // a killed broker comes back on the same ports: keep trying, quickly
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
    reconnectJitter: 20,
    // a stack trace captured per request/publish costs more than the publish itself
    noAsyncTraces: true,
    waitOnFirstConnect: true,
  });
}

/**
 * drain() when the server is reachable (pending acks and deliveries are flushed first);
 * a connection stuck reconnecting to a dead broker would never finish draining, so
 * after `ms` it is simply closed.
 */
export async function closeConnection(nc: NatsConnection, ms = 5_000): Promise<void> {
  if (nc.isClosed()) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), ms)));
  const drained = nc.drain().then(
    () => 'drained' as const,
    () => 'failed' as const,
  );
  const how = await Promise.race([drained, late]);
  clearTimeout(timer);
  if (how !== 'drained') await nc.close().catch(() => undefined);
}

/**
 * Resolves once a round trip to the server succeeds. A request made while nats.js is
 * still reconnecting is dropped with the client's outbound buffer and then waits out its
 * full timeout; a PING fails fast instead, so we poll with those.
 */
export async function awaitReachable(nc: NatsConnection, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await nc.flush();
      return;
    } catch (err) {
      if (nc.isClosed() || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
