/**
 * The files of a merge: the shard results it reads, each with its interval log (.hlog)
 * from beside it when the result names one, for the merged intervals' percentiles; and the
 * merged result it writes, which has an interval log of its own like any other result.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { MergedRun, ShardInput } from '../../checks/merge/index.ts';
import { HlogWriter } from '../../core/hlog.ts';
import { readResultFile, writeResultFiles, type WrittenFiles } from './files.ts';

export function loadShardInputs(files: readonly string[]): ShardInput[] {
  return files.map((file) => {
    const result = readResultFile(file);
    const log = result.systems?.[0]?.intervalLog;
    const hlogFile = log ? path.join(path.dirname(file), log) : undefined;
    return { file, result, ...(hlogFile && fs.existsSync(hlogFile) ? { hlog: fs.readFileSync(hlogFile, 'utf8') } : {}) };
  });
}

/**
 * The merged result's files as writeResultFiles writes any run's, its interval log among
 * them: the shards' interval histograms summed, in time order, written under a temporary
 * name that writeResultFiles links to `<base>.<system>.hlog` and records in the result.
 */
export function writeMergedFiles(base: string, merged: MergedRun): WrittenFiles {
  const log = merged.intervalLog;
  if (!log) return writeResultFiles(base, merged.result);
  fs.mkdirSync(path.dirname(base), { recursive: true });
  const tmp = `${base}.merged.${process.pid}.hlog.tmp`;
  const lines = [...log.histograms].flatMap(([tag, byEnd]) => [...byEnd].map(([endMs, x]) => ({ tag, endMs, ...x })));
  lines.sort((a, b) => a.endMs - b.endMs || a.tag.localeCompare(b.tag));
  const writer = new HlogWriter(tmp, log.startEpochMs);
  try {
    for (const l of lines) writer.interval(l.tag, (l.startMs + log.warmupMs) / 1000, (l.endMs - l.startMs) / 1000, l.h);
  } finally {
    writer.close();
  }
  merged.result.systems[0]!.intervalLog = tmp;
  try {
    return writeResultFiles(base, merged.result);
  } finally {
    fs.rmSync(tmp, { force: true }); // linked by then, or nothing half-written stays behind
  }
}
