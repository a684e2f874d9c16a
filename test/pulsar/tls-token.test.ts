/**
 * TLS and token authentication against a real Pulsar standalone (one for the file): its
 * TLS port serves a certificate openssl makes at test time, and AuthenticationProviderToken
 * checks HS256 tokens this test signs with a secret key it writes. Unauthenticated
 * connections get an anonymous role (so the harness's own admin calls and the broker's
 * internal client need no token); a token that is sent must verify.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBack } from '../../src/adapters/pulsar/read-back.ts';
import { PulsarClient, PulsarError, PulsarWireError, type ClientOptions } from '../../src/adapters/pulsar/wire/index.ts';
import { freePort } from '../../src/brokers/common/ports.ts';
import { pulsarDeployment, type PulsarDeployment } from '../../src/brokers/pulsar/deployment.ts';
import { selfSignedCert, type TestCert } from '../fixtures/tls-cert.ts';

let dir: string;
let broker: PulsarDeployment;
let cert: TestCert;
let tlsUrl: string;
let secret: Buffer;
const clients: PulsarClient[] = [];

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/** An HS256 JWT for `subject`, as `bin/pulsar tokens create --secret-key` makes. */
function token(subject: string, key: Buffer): string {
  const unsigned = `${b64url(JSON.stringify({ alg: 'HS256' }))}.${b64url(JSON.stringify({ sub: subject }))}`;
  return `${unsigned}.${b64url(crypto.createHmac('sha256', key).update(unsigned).digest())}`;
}

function client(opts: ClientOptions): PulsarClient {
  const c = new PulsarClient({ operationTimeoutMs: 10_000, ...opts });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-pulsar-tls-'));
  cert = selfSignedCert(dir, ['IP:127.0.0.1']);
  secret = crypto.randomBytes(32);
  const secretFile = path.join(dir, 'secret.key');
  fs.writeFileSync(secretFile, secret);
  const tlsPort = await freePort();
  broker = pulsarDeployment('native', {
    dir: path.join(dir, 'pulsar'),
    transactions: false,
    config: {
      brokerServicePortTls: tlsPort,
      tlsCertificateFilePath: cert.certFile,
      tlsKeyFilePath: cert.keyFile,
      tlsTrustCertsFilePath: cert.certFile,
      authenticationEnabled: true,
      authenticationProviders: 'org.apache.pulsar.broker.authentication.AuthenticationProviderToken',
      tokenSecretKey: `file://${secretFile}`,
      anonymousUserRole: 'anonymous',
    },
  });
  await broker.start();
  tlsUrl = `pulsar+ssl://127.0.0.1:${tlsPort}`;
}, 240_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await broker?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const kindOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof PulsarError ? e.serverError : e instanceof PulsarWireError ? e.kind : String(e)),
  );

describe('pulsar over TLS with a token, against a standalone', () => {
  it('produces and reads back over pulsar+ssl:// with the trusted certificate and a valid token', async () => {
    const settings = { serviceUrl: tlsUrl, tls: { trustCertsFilePath: cert.certFile }, token: token('busbench-test', secret) };
    const topic = `persistent://public/default/tls-${Date.now()}`;
    const p = await client(settings).createProducer({ topic, batching: false });
    for (let i = 0; i < 3; i++) await p.send(new Uint8Array([i]));
    await p.close();
    const back = await readBack(settings, [topic], 'rb', 60_000, 3_000);
    expect(back.messages).toBe(3);
  }, 90_000);

  it('refuses the broker’s certificate without the trust file, and takes it with tlsAllowInsecureConnection', async () => {
    const topic = `persistent://public/default/tls-insecure-${Date.now()}`;
    expect(await kindOf(client({ serviceUrl: tlsUrl }).createProducer({ topic }))).toBe('tls');
    expect(await kindOf(client({ serviceUrl: tlsUrl, tls: { allowInsecureConnection: true } }).createProducer({ topic }))).toBe('ok');
  }, 60_000);

  it('is refused with a token signed by another key, over TLS and over plain TCP', async () => {
    const topic = `persistent://public/default/token-${Date.now()}`;
    const forged = token('busbench-test', crypto.randomBytes(32));
    expect(await kindOf(client({ serviceUrl: tlsUrl, tls: { trustCertsFilePath: cert.certFile }, token: forged }).createProducer({ topic }))).toBe('AuthenticationError');
    expect(await kindOf(client({ serviceUrl: broker.urls()[0]!, token: forged }).createProducer({ topic }))).toBe('AuthenticationError');
    expect(await kindOf(client({ serviceUrl: broker.urls()[0]!, token: token('busbench-test', secret) }).createProducer({ topic }))).toBe('ok');
  }, 60_000);
});
