/** Which sessions put their broker's data on the power-loss layer, and how (no mount needed). */
import { describe, expect, it } from 'vitest';
import { powerLossLayer } from '../../src/brokers/common/power-loss.ts';

describe('powerLossLayer', () => {
  it("mounts a power-loss fault's data with the kernel's write-back cache, but for a torn cut", () => {
    expect(powerLossLayer({ fault: { type: 'power-loss', mode: 'lose-unsynced' } })).toEqual({ writeback: true });
    // a torn cut tears the broker's last write, which the cache would turn into the kernel's page write-back
    expect(powerLossLayer({ fault: { type: 'power-loss', mode: 'torn' } })).toEqual({ writeback: false });
  });

  it('the layer without a fault (its overhead measured) is the fast path; no layer for a kill or no fault', () => {
    expect(powerLossLayer({ powerLossLayer: true })).toEqual({ writeback: true });
    expect(powerLossLayer({ fault: { type: 'kill' } })).toBeUndefined();
    expect(powerLossLayer({})).toBeUndefined();
  });
});
