/**
 * Whole runs of the real harness and Pulsar worker side over a relaying stand-in broker,
 * for two answers a standalone Pulsar cannot be made to give on cue: an entry delivered
 * with a bad checksum (the consumer must discard it, and the run must say so), and a send
 * answered -1:-1 by deduplication without being stored (the loss must be reported as lost
 * behind a duplicate answer, not as a plain acked loss or not at all).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runOnce } from '../../src/harness/runner.ts';
import { removeRunDirs, runSpec } from '../fixtures/run-spec.ts';
import { standInPulsar } from '../fixtures/standin-pulsar-system.ts';
import { startRelay, type RelayScript } from './relay-broker.ts';

const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
  removeRunDirs();
});

async function runOver(script: RelayScript, options: Record<string, unknown> = {}) {
  const relay = await startRelay(script);
  open.push(relay.broker);
  const adapter = standInPulsar(relay.broker.url);
  const spec = runSpec(adapter, { batchMaxDelayMs: 5, ...options }, { ratePerSec: 2000, load: { warmupMs: 300, durationMs: 1200, drainTimeoutMs: 2500, batchSize: 16 } });
  const result = await runOnce(spec);
  return { result, relay };
}

describe('a run over a stand-in Pulsar broker', () => {
  it('counts an entry the consumer discarded for its checksum, and the verdict names it', async () => {
    const { result, relay } = await runOver({ corrupt: 5 });
    expect(relay.scriptedMessages).toBeGreaterThan(0);
    expect(result.delivery.discardedEntries).toBe(1);
    expect(result.delivery.lost).toBe(relay.scriptedMessages);
    expect(result.status).toBe('delivery-errors');
    expect(result.error).toMatch(/1 entries discarded: checksum mismatch/);
  }, 30_000);

  it('reports a send answered -1:-1 and never stored as lost behind a duplicate answer, not as acked lost', async () => {
    const { result, relay } = await runOver({ duplicateUnstored: 5 }, { dedup: 'on' });
    const n = relay.scriptedMessages;
    expect(n).toBeGreaterThan(0);
    expect(result.delivery).toMatchObject({ ackedAsDuplicate: n, lostBehindDuplicate: n, ackedLost: 0, lost: n, discardedEntries: 0 });
    expect(result.status).toBe('delivery-errors');
    expect(result.error).toMatch(new RegExp(`producer 0: ${n} lost behind a duplicate answer`));
    expect(result.error).not.toMatch(/acknowledged messages never arrived/);
  }, 30_000);
});
