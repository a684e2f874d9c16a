/**
 * Topic lookup: which broker serves a topic. The client asks any broker (the service
 * URL); the answer is Connect (go to brokerServiceUrl), Redirect (ask brokerServiceUrl
 * instead, with `authoritative` as it says) or Failed. With proxy_through_service_url the
 * client keeps connecting to the service URL (a proxy) and names the broker in CONNECT.
 * Over TLS the answer's brokerServiceUrlTls is followed instead. A listener name asks for
 * the addresses the broker advertises under that name (advertisedListeners), e.g. the
 * external ones of brokers that advertise container-internal hostnames by default.
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
  /** the broker's advertised listener to be answered with (advertisedListeners: "<name>:pulsar://..."); undefined = its default */
  readonly listenerName?: string;
  /** TLS: follow the answers' brokerServiceUrlTls rather than brokerServiceUrl */
  readonly useTls: boolean;
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
    const listener = host.listenerName ? { advertisedListenerName: host.listenerName } : {};
    const res = await conn.request({ type: Cmd.LOOKUP, lookupTopic: { topic, requestId, authoritative, ...listener } }, requestId, `LOOKUP ${topic} at ${target.logical}`);
    const r = res.lookupTopicResponse;
    if (!r || u64(r.requestId) !== requestId) throw new PulsarWireError('protocol', `pulsar LOOKUP ${topic}: unexpected answer type ${res.type}`);
    const url = host.useTls ? r.brokerServiceUrlTls : r.brokerServiceUrl;
    if (!url) {
      const missing = host.useTls ? 'brokerServiceUrlTls (the broker has no TLS port for this listener)' : 'brokerServiceUrl (a TLS-only broker: use a pulsar+ssl:// service URL)';
      throw new PulsarWireError('protocol', `pulsar LOOKUP ${topic}: answer without ${missing}`);
    }
    const next: BrokerAddress = r.proxyThroughServiceUrl ? { logical: url, physical: service } : { logical: url, physical: url };
    if (r.response === LookupType.Connect) return next;
    if (r.response !== LookupType.Redirect) throw new PulsarWireError('protocol', `pulsar LOOKUP ${topic}: unknown response type ${r.response}`);
    target = next;
    authoritative = r.authoritative;
  }
  throw new PulsarWireError('protocol', `pulsar LOOKUP ${topic}: more than ${MAX_LOOKUP_REDIRECTS} redirects`);
}
