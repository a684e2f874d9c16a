/**
 * How the client reaches a broker, against stand-in brokers: lookups for an advertised
 * listener, token authentication in CONNECT, and TLS with each of its checks. (TLS and
 * tokens against a real standalone: test/pulsar/tls-token.test.ts.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PulsarClient, type ClientOptions } from '../../src/adapters/pulsar/wire/client.ts';
import { PulsarError, PulsarWireError } from '../../src/adapters/pulsar/wire/errors.ts';
import { Cmd, LookupType, u64 } from '../../src/adapters/pulsar/wire/proto.ts';
import { selfSignedCert, type TestCert } from '../fixtures/tls-cert.ts';
import { ScriptedBroker, type Handler } from './scripted-broker.ts';

const TOPIC = 'persistent://t/ns/topic';
const AUTHENTICATION_ERROR = 3;
const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function broker(handler?: Handler, tlsOptions?: { key: Buffer; cert: Buffer }): Promise<ScriptedBroker> {
  const b = await ScriptedBroker.start(handler, tlsOptions);
  open.push(b);
  return b;
}

function client(serviceUrl: string, extra: Partial<ClientOptions> = {}): PulsarClient {
  const c = new PulsarClient({ serviceUrl, operationTimeoutMs: 3_000, reconnectInitialMs: 10, reconnectMaxMs: 50, ...extra });
  open.push(c);
  return c;
}

describe('listenerName', () => {
  it('asks lookups for that advertised listener and follows the address the broker gives for it', async () => {
    const external = await broker();
    // Like a broker with advertisedListeners "internal:pulsar://<container>:6650,external:pulsar://127.0.0.1:...".
    const service = await broker((cmd, s) => {
      if (cmd.type !== Cmd.LOOKUP) return false;
      const named = cmd.lookupTopic!.advertisedListenerName === 'external';
      s.reply({
        type: Cmd.LOOKUP_RESPONSE,
        lookupTopicResponse: { requestId: u64(cmd.lookupTopic!.requestId), response: LookupType.Connect, brokerServiceUrl: named ? external.url : 'pulsar://pulsar-broker-1.internal:6650', authoritative: true },
      });
      return true;
    });
    expect(await client(service.url).lookup(TOPIC)).toEqual({ logical: 'pulsar://pulsar-broker-1.internal:6650', physical: 'pulsar://pulsar-broker-1.internal:6650' });

    const c = client(service.url, { listenerName: 'external' });
    expect(await c.lookup(TOPIC)).toEqual({ logical: external.url, physical: external.url });
    await c.createProducer({ topic: TOPIC, producerName: 'p' });
    expect(external.commands(Cmd.PRODUCER)).toHaveLength(1);
    expect(service.commands(Cmd.LOOKUP).map((x) => x.lookupTopic!.advertisedListenerName)).toEqual(['', 'external', 'external']);
  });
});

describe('token authentication', () => {
  const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJidXNiZW5jaCJ9.c2lnbmF0dXJl';
  /** Accepts CONNECT only with auth method "token" and TOKEN, as a broker with AuthenticationProviderToken would. */
  const checking: Handler = (cmd, s) => {
    if (cmd.type !== Cmd.CONNECT) return false;
    const c = cmd.connect!;
    if (c.authMethodName === 'token' && Buffer.from(c.authData ?? []).toString() === TOKEN) return false;
    s.reply({ type: Cmd.ERROR, error: { requestId: 0, error: AUTHENTICATION_ERROR, message: 'Failed to authenticate' } });
    return true;
  };

  it('sends auth_method_name "token" and the token in CONNECT', async () => {
    const b = await broker(checking);
    await client(b.url, { token: TOKEN }).createProducer({ topic: TOPIC });
    expect(b.commands(Cmd.CONNECT).map((x) => [x.connect!.authMethodName, Buffer.from(x.connect!.authData ?? []).toString()])).toEqual([['token', TOKEN]]);
  });

  it('fails at once, without retrying, when the broker refuses the token', async () => {
    const b = await broker(checking);
    const t0 = Date.now();
    const err = await client(b.url, { token: 'wrong' })
      .createProducer({ topic: TOPIC })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PulsarError);
    expect(err).toMatchObject({ serverError: 'AuthenticationError' });
    expect(b.commands(Cmd.CONNECT)).toHaveLength(1);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});

describe('TLS', () => {
  let dir: string;
  let forIp: TestCert;
  let forName: TestCert;
  const served = (c: TestCert) => ({ cert: fs.readFileSync(c.certFile), key: fs.readFileSync(c.keyFile) });

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-tls-'));
    fs.mkdirSync(path.join(dir, 'ip'));
    fs.mkdirSync(path.join(dir, 'name'));
    forIp = selfSignedCert(path.join(dir, 'ip'), ['IP:127.0.0.1']);
    forName = selfSignedCert(path.join(dir, 'name'), ['DNS:broker.busbench.test']);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const kindOf = (p: Promise<unknown>): Promise<string> => p.then(
    () => 'ok',
    (e: unknown) => (e instanceof PulsarWireError ? e.kind : String(e)),
  );

  it('connects to a pulsar+ssl:// URL with the trusted certificate and follows brokerServiceUrlTls', async () => {
    const b = await broker(undefined, served(forIp));
    expect(b.url).toMatch(/^pulsar\+ssl:/);
    const c = client(b.url, { tls: { trustCertsFilePath: forIp.certFile } });
    const p = await c.createProducer({ topic: TOPIC, batching: false });
    await expect(p.send(new Uint8Array([1]))).resolves.toMatchObject({ ledgerId: 1 });
  });

  it('refuses an untrusted certificate at once, unless tlsAllowInsecureConnection', async () => {
    const b = await broker(undefined, served(forIp));
    const t0 = Date.now();
    expect(await kindOf(client(b.url).createProducer({ topic: TOPIC }))).toBe('tls');
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(await kindOf(client(b.url, { tls: { allowInsecureConnection: true } }).createProducer({ topic: TOPIC }))).toBe('ok');
  });

  it('checks the host name unless tlsHostnameVerification is off', async () => {
    const b = await broker(undefined, served(forName));
    expect(await kindOf(client(b.url, { tls: { trustCertsFilePath: forName.certFile } }).createProducer({ topic: TOPIC }))).toBe('tls');
    expect(await kindOf(client(b.url, { tls: { trustCertsFilePath: forName.certFile, hostnameVerification: false } }).createProducer({ topic: TOPIC }))).toBe('ok');
  });
});
