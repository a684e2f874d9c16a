import { describe, expect, it } from 'vitest';
import { durabilityTable } from '../../src/report/render/findings.ts';
import { systemResult } from './fixtures.ts';

const plain = (_code: number, text: string): string => text;
const cut = { mode: 'lose-unsynced', bytesDropped: 3 * 1024 * 1024, filesAffected: 4, tornFiles: [] };
const finding = (over: Record<string, unknown>): Record<string, unknown> => ({
  fault: 'power loss (lose-unsynced) of nats-server',
  faultType: 'power-loss',
  injected: true,
  ackedLost: 0,
  unackedDelivered: 0,
  duplicates: 0,
  rtoMs: 900,
  rtoPublishMs: 850,
  layer: cut,
  ...over,
});

describe('the durability table', () => {
  it('holds each configuration to the crash it promised to survive, and shows what the layer dropped', () => {
    const table = durabilityTable(
      [
        systemResult({ system: 'nats', label: 'syncInterval=default', durability: finding({ level: 'process-crash', promise: 'p-crash', ackedLost: 1200, promiseKept: true }) }),
        systemResult({ system: 'nats', label: 'syncInterval=always', durability: finding({ level: 'power-loss', promise: 'p-power', promiseKept: true }) }),
        systemResult({ system: 'pulsar', label: 'journalSync=on', durability: finding({ level: 'power-loss', promise: 'p-power', ackedLost: 3, promiseKept: false }) }),
      ],
      plain,
    )!;
    const row = (label: string): string => table.split('\n').find((l) => l.includes(label))!;
    expect(table.split('\n')[0]).toMatch(/acked lost .*dropped .*RTO publish/);
    expect(row('syncInterval=default')).toMatch(/1200 .*3\.00 MiB .*NOT DURABLE TO POWER LOSS: lost acked data/);
    expect(row('syncInterval=always')).toMatch(/ 0 .*3\.00 MiB .* kept$/);
    expect(row('journalSync=on')).toMatch(/PROMISE BROKEN/);
    expect(table).toMatch(/the filesystem layer under its data dropped every write no fsync covered/);
    expect(table).not.toMatch(/page cache/);
  });

  it('says the service did not come back, in the broker’s words', () => {
    const problem = 'service not restored: ledger 5 could not be recovered (Digest mismatch)';
    const table = durabilityTable([systemResult({ system: 'pulsar', durability: finding({ level: 'process-crash', promiseKept: true, rtoMs: null, serviceProblem: problem }) })], plain)!;
    expect(table).toContain(problem);
  });

  it('reads files from before the levels: kill -9, "acked messages survive", no dropped column', () => {
    const table = durabilityTable([systemResult({ system: 'nats', durability: { fault: 'kill -9 of nats-server', injected: true, promise: 'acked messages survive', promiseKept: true, ackedLost: 0, rtoMs: 700 } })], plain)!;
    expect(table.split('\n')[0]).not.toMatch(/dropped/);
    expect(table.split('\n').find((l) => l.startsWith('nats'))).toMatch(/ kept$/);
    expect(table).toMatch(/page cache/);
  });
});
