/**
 * The shared reconnect/retry helper: the pure loop with a stand-in role, then a consumer
 * against the scripted broker (a producer's reconnects are in scripted.test.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Backoff } from '../../src/adapters/pulsar/wire/backoff.ts';
import { PulsarClient } from '../../src/adapters/pulsar/wire/client.ts';
import { PulsarError, PulsarWireError, SERVER_ERRORS } from '../../src/adapters/pulsar/wire/errors.ts';
import { Cmd, u64 } from '../../src/adapters/pulsar/wire/proto.ts';
import { Reconnector, retryWithin, type ReconnectRole } from '../../src/adapters/pulsar/wire/reconnect.ts';
import { ScriptedBroker } from './scripted-broker.ts';

const lost = (): PulsarWireError => new PulsarWireError('connection', 'connection refused');
const serverError = (name: (typeof SERVER_ERRORS)[number]): PulsarError => new PulsarError(SERVER_ERRORS.indexOf(name), name, 'PRODUCER t');

const waitFor = async (cond: () => boolean, ms = 3_000): Promise<void> => {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
};

/** A role whose attempts follow a script: each entry fails with its error, or (null) succeeds. */
class ScriptedRole implements ReconnectRole {
  state: 'ready' | 'connecting' | 'closed' | 'failed' = 'ready';
  readonly again = { doing: 'reconnecting', attempt: 'reconnect' };
  attempts = 0;
  inFlight = 0;
  maxInFlight = 0;
  reconnects = 0;
  failure: Error | null = null;
  /** called inside a successful attempt, once the role is ready */
  onReady: (() => void) | null = null;

  constructor(private readonly script: (Error | null)[]) {}

  label(): string {
    return 'role r';
  }

  wanted(): boolean {
    return this.state === 'connecting';
  }

  async connect(): Promise<void> {
    this.attempts++;
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      await new Promise((r) => setTimeout(r, 1));
      const err = this.script.shift() ?? null;
      if (err) throw err;
      if (this.state === 'connecting') this.state = 'ready';
      this.onReady?.();
    } finally {
      this.inFlight--;
    }
  }

  reconnected(): void {
    this.reconnects++;
  }

  giveUp(failure: Error): void {
    this.failure = failure;
    this.state = 'failed';
  }
}

function host(logs: string[] = []) {
  return { operationTimeoutMs: 2_000, reconnectInitialMs: 4, reconnectMaxMs: 16, log: (l: string) => logs.push(l) };
}

/** Drops the role's connection the way producer and consumer do, then tells the reconnector. */
function drop(role: ScriptedRole, r: Reconnector, reason = 'gone'): void {
  if (role.state !== 'ready') return;
  role.state = 'connecting';
  r.lost(reason);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('retryWithin (first connection)', () => {
  it('retries retriable failures with a doubling backoff until one succeeds, then resets it', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(1); // no jitter: delays are exact
    const backoff = new Backoff(2, 100);
    const delays = vi.spyOn(backoff, 'delay');
    const script = [lost(), serverError('ServiceNotReady'), lost()];
    const result = await retryWithin(
      async () => {
        const err = script.shift();
        if (err) throw err;
        return 'up';
      },
      backoff,
      5_000,
    );
    expect(result).toBe('up');
    expect(delays.mock.results.map((r) => r.value)).toEqual([2, 4, 8]);
    expect(backoff.delay()).toBe(2);
  });

  it('throws at once on an error retrying cannot fix (ProducerBusy on a first attempt)', async () => {
    let calls = 0;
    const err = await retryWithin(
      () => {
        calls++;
        return Promise.reject(serverError('ProducerBusy'));
      },
      new Backoff(1, 10),
      5_000,
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ serverError: 'ProducerBusy' });
    expect(calls).toBe(1);
  });

  it('gives up with the last error once the next try would start after the timeout', async () => {
    let calls = 0;
    const started = Date.now();
    const err = await retryWithin(
      () => {
        calls++;
        return Promise.reject(lost());
      },
      new Backoff(10, 10),
      50,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PulsarWireError);
    expect(calls).toBeGreaterThan(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('Reconnector (after a loss)', () => {
  it('retries with backoff until an attempt succeeds, logging each step', async () => {
    const logs: string[] = [];
    // ProducerBusy is retriable here: the broker may still hold our previous session
    const busy = serverError('ProducerBusy');
    const role = new ScriptedRole([lost(), busy, null]);
    const r = new Reconnector(host(logs), role);
    drop(role, r, 'reset by peer');
    await waitFor(() => role.state === 'ready');
    expect(role.attempts).toBe(3);
    expect(role.reconnects).toBe(1);
    expect(logs).toEqual([
      'role r: connection lost (reset by peer); reconnecting',
      'role r: reconnect failed (connection refused)',
      `role r: reconnect failed (${busy.message})`,
    ]);
  });

  it('gives up on an error retrying cannot fix, passing it to the role', async () => {
    const logs: string[] = [];
    const fatal = serverError('AuthorizationError');
    const role = new ScriptedRole([lost(), fatal]);
    const r = new Reconnector(host(logs), role);
    drop(role, r);
    await waitFor(() => role.state === 'failed');
    expect(role.failure).toBe(fatal);
    expect(role.attempts).toBe(2);
    expect(role.reconnects).toBe(0);
    expect(logs.at(-1)).toBe(`role r: giving up: ${fatal.message}`);
  });

  it('stops when the role is closed while it waits, without another attempt', async () => {
    const role = new ScriptedRole([lost(), lost(), lost(), lost()]);
    const r = new Reconnector(host(), role);
    drop(role, r);
    await waitFor(() => role.attempts === 1);
    role.state = 'closed';
    await new Promise((res) => setTimeout(res, 60));
    expect(role.attempts).toBe(1);
    expect(role.reconnects).toBe(0);
  });

  it('runs one loop at a time, also when the connection drops again as an attempt completes', async () => {
    const role = new ScriptedRole([lost(), null, null]);
    const r = new Reconnector(host(), role);
    let dropsLeft = 1;
    role.onReady = () => {
      // lost again before the attempt has returned to the loop
      if (dropsLeft-- > 0) drop(role, r, 'again');
    };
    drop(role, r);
    drop(role, r); // no-op: already reconnecting
    r.lost('noticed twice'); // a second notice while the loop runs starts no second loop
    await waitFor(() => role.reconnects === 2);
    expect(role.state).toBe('ready');
    expect(role.attempts).toBe(3);
    expect(role.maxInFlight).toBe(1);
  });

  it('resets the backoff only after a session that lasted', () => {
    vi.spyOn(Math, 'random').mockReturnValue(1);
    const now = vi.spyOn(Date, 'now');
    const role = new ScriptedRole([]);
    role.state = 'closed'; // the loop exits at once: only the backoff is looked at
    const r = new Reconnector(host(), role);
    now.mockReturnValue(1_000_000);
    expect([r.backoff.delay(), r.backoff.delay()]).toEqual([4, 8]);
    r.sessionStarted();
    now.mockReturnValue(1_000_000 + 1_000);
    r.lost('short session');
    expect(r.backoff.delay()).toBe(16);
    r.sessionStarted();
    now.mockReturnValue(1_000_000 + 1_000 + 6_000);
    r.lost('long session');
    expect(r.backoff.delay()).toBe(4);
  });
});

describe('a consumer against a scripted broker', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });

  it('resubscribes after the connection drops: SUBSCRIBE again, then FLOW for a full queue', async () => {
    const b = await ScriptedBroker.start();
    open.push(b);
    const logs: string[] = [];
    const c = new PulsarClient({ serviceUrl: b.url, operationTimeoutMs: 3_000, reconnectInitialMs: 5, reconnectMaxMs: 20, log: (l) => logs.push(l) });
    open.push(c);
    const consumer = await c.subscribe({ topic: 'persistent://t/ns/topic', subscription: 's', receiverQueueSize: 50 });
    await waitFor(() => b.commands(Cmd.FLOW).length === 1);
    b.sessions[0]!.destroy();
    await waitFor(() => consumer.stats.reconnects === 1 && b.commands(Cmd.FLOW).length === 2);
    expect(consumer.connected).toBe(true);
    expect(b.commands(Cmd.SUBSCRIBE).map((x) => x.subscribe!.subscription)).toEqual(['s', 's']);
    expect(b.commands(Cmd.FLOW).map((x) => u64(x.flow!.messagePermits))).toEqual([50, 50]);
    expect(logs.filter((l) => l.startsWith('pulsar consumer s: ')).map((l) => l.replace(/\(.*\)/, '(…)'))).toEqual(['pulsar consumer s: connection lost (…); resubscribing']);
  });
});
