/**
 * How the report writes numbers, in the terminal table, the HTML page and the metric
 * columns alike, so one value reads the same everywhere. The unit formatters the engine
 * also needs live in core; the report takes them from here.
 */
export { formatUs } from '../../core/units.ts';

export function formatRate(perSec: number): string {
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(2)}M`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toFixed(1)}k`;
  return perSec.toFixed(0);
}
