/**
 * HdrHistogram interval log (.hlog), the format HdrHistogram's HistogramLogProcessor and
 * every port's HistogramLogReader read: a few header comments, a legend, then one line per
 * interval `Tag=<kind>,<start s>,<length s>,<max ms>,<compressed base64 histogram>`.
 * Values are nanoseconds, so the max column is in milliseconds as the Java writer's
 * default (max / 1e6) gives it, and a processor reads it with its default unit ratio.
 *
 * Lines are appended as intervals close, so a run of any length holds none of them in
 * memory. The log lives under a temporary name until the result is written, which links
 * it to its final name (a link never replaces an existing file, unlike a rename).
 */
import fs from 'node:fs';
import * as hdr from 'hdr-histogram-js';
import { encodeBuckets, valueFromIndex } from './histogram.ts';

/** nanosecond values, max column in milliseconds */
const MAX_VALUE_UNIT_RATIO = 1e6;

/** The log's time and max columns as hdr-histogram-js's writer formats them: 3 decimals, padded to 5. */
const columnFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3, minimumFractionDigits: 3, useGrouping: false });
const column = (v: number): string => columnFormat.format(v).padStart(5);

export class HlogWriter {
  private fd: number | undefined;
  private readonly writer: hdr.HistogramLogWriter;

  /**
   * @param tmpFile written while the run lasts
   * @param startEpochMs wall-clock time of interval 0's start: timestamps are relative to it
   */
  constructor(
    readonly tmpFile: string,
    startEpochMs: number,
  ) {
    this.fd = fs.openSync(tmpFile, 'w');
    this.writer = new hdr.HistogramLogWriter((text) => this.append(text));
    this.writer.outputLogFormatVersion();
    // Written here, not with outputStartTime, which adds a blank line.
    const sec = (startEpochMs / 1000).toFixed(3);
    this.append(`#[StartTime: ${sec} (seconds since epoch), ${new Date(startEpochMs).toString()}]\n`);
    this.append(`#[BaseTime: ${sec} (seconds since epoch)]\n`);
    this.writer.outputLegend();
  }

  /** One interval's histogram; `tag` names the kind (e2e, publish, ...). */
  interval(tag: string, startSec: number, lengthSec: number, h: hdr.Histogram): void {
    const saved = h.tag;
    h.tag = tag;
    this.writer.outputIntervalHistogram(h, startSec, startSec + lengthSec, MAX_VALUE_UNIT_RATIO);
    h.tag = saved;
  }

  /**
   * The same line for a LatencyRecorder's nonzero `buckets` (ascending, no repeats),
   * encoded straight from its counts (encodeBuckets). The max column is the top
   * bucket's value, as the replayed histogram's maxValue was.
   */
  intervalBuckets(tag: string, startSec: number, lengthSec: number, counts: Float64Array, buckets: ArrayLike<number>): void {
    const maxNs = buckets.length > 0 ? valueFromIndex(buckets[buckets.length - 1]!) : 0;
    this.append(`Tag=${tag},${column(startSec)},${column(lengthSec)},${column(maxNs / MAX_VALUE_UNIT_RATIO)},${encodeBuckets(counts, buckets)}\n`);
  }

  /** Closes the log where it is (a failed run keeps it under its temporary name). */
  close(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private append(text: string): void {
    if (this.fd === undefined) throw new Error(`${this.tmpFile}: interval log already closed`);
    fs.writeSync(this.fd, text);
  }
}

/** Renames a finished temporary file, failing rather than replacing a file of that name. */
export function linkNoClobber(tmpFile: string, finalFile: string): void {
  fs.linkSync(tmpFile, finalFile);
  fs.rmSync(tmpFile);
}
