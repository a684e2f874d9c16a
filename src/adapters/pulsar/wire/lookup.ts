/**
 * Topic lookup: which broker serves a topic. The client asks any broker (the service
 * URL); the answer is Connect (go to brokerServiceUrl), Redirect (ask brokerServiceUrl
 * instead, with `authoritative` as it says) or Failed. With proxy_through_service_url the
 * client keeps connecting to the service URL (a proxy) and names the broker in CONNECT.
 *
 * A standalone broker always answers Connect with itself; the redirect path is exercised
 * by test/pulsar-wire/lookup.test.ts against scripted brokers.
 */
import { PulsarWireError } from './errors.ts';
import { Cmd, LookupType, u64, type InboundCommand, type OutboundCommand } from './proto.ts';

/**
 * Where to open a connection for a topic: `physical` is the socket's peer, `logical`
 * the broker that serves the topic. They differ only through a proxy.
 */
export interface BrokerAddress {
  logical: string;
  physical: string;
}

/** What lookup needs from the client, so it can be tested without one. */
export interface LookupHost {
  readonly serviceUrl: string;
  connect(addr: BrokerAddress): Promise<{ request(cmd: OutboundCommand, requestId: number, what: string): Promise<InboundCommand> }>;
  newRequestId(): number;
}

/** Lookups may bounce between brokers while bundles move; more hops than this is a loop. */
export const MAX_LOOKUP_REDIRECTS = 20;

export async function lookupTopic(host: LookupHost, topic: string): Promise<BrokerAddress> {
  const service = host.serviceUrl;
  let target: BrokerAddress = { logical: service, physical: service };
  let authoritative = false;
  for (let hop = 0; hop <= MAX_LOOKUP_REDIRECTS; hop++) {
    const conn = await host.connect(target);
    const requestId = host.newRequestId();
    const res = await conn.request({ type: Cmd.LOOKUP, lookupTopic: { topic, requestId, authoritative } }, requestId, `LOOKUP ${topic} at ${target.logical}`);
    const r = res.lookupTopicResponse;
    if (!r || u64(r.requestId) !== requestId) throw new PulsarWireError('protocol', `pulsar LOOKUP ${topic}: unexpected answer type ${res.type}`);
    const url = r.brokerServiceUrl;
    if (!url) throw new PulsarWireError('protocol', `pulsar LOOKUP ${topic}: answer without brokerServiceUrl (TLS-only brokers are not supported)`);
    const next: BrokerAddress = r.proxyThroughServiceUrl ? { logical: url, physical: service } : { logical: url, physical: url };
    if (r.response === LookupType.Connect) return next;
    if (r.response !== LookupType.Redirect) throw new PulsarWireError('protocol', `pulsar LOOKUP ${topic}: unknown response type ${r.response}`);
    target = next;
    authoritative = r.authoritative;
  }
  throw new PulsarWireError('protocol', `pulsar LOOKUP ${topic}: more than ${MAX_LOOKUP_REDIRECTS} redirects`);
}
