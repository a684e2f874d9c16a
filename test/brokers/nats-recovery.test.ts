import { describe, expect, it } from 'vitest';
import { streamNotRestored } from '../../src/brokers/nats/recovery.ts';

// Lines from a nats-server 2.15.2 log restarted after a power loss with sync_interval at its default
const META = '[6090] 2026/12/01 23:43:05.416748 [WRN]   Stream metafile "/tmp/r/nats-0/data/n1/jetstream/$G/streams/busbench_run-nats-0/meta.inf": checksums do not match "" vs "f316b9ffa4cee759"';
const HEALTH = `[6090] 2026/12/01 23:44:02.378358 [WRN] Healthcheck failed: "JetStream stream '$G > busbench_run-nats-0' could not be recovered"`;

describe('a stream the restarted nats-server could not recover', () => {
  it('names the stream and quotes the cause before the symptom', () => {
    expect(streamNotRestored(['[1] [INF] Server is ready', HEALTH, META].join('\n'))).toBe(`service not restored: JetStream stream busbench_run-nats-0 could not be recovered (${META.trim()})`);
    expect(streamNotRestored(HEALTH)).toMatch(/^service not restored: JetStream stream busbench_run-nats-0 could not be recovered \(.*Healthcheck failed/);
    expect(streamNotRestored('[9] [ERR] Error recreating stream "orders": bad config')).toMatch(/stream orders could not be recovered/);
  });

  it('says nothing of a clean restart', () => {
    expect(streamNotRestored('[1] [INF] Starting JetStream\n[1] [INF] Restored 17,256 messages for stream \'$G > busbench\'\n[1] [INF] Server is ready')).toBeUndefined();
  });
});
