/**
 * The shard results a merge reads: each result file, and its interval log (.hlog) from
 * beside it when the result names one, for the merged intervals' percentiles.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ShardInput } from '../../checks/merge/index.ts';
import { readResultFile } from './files.ts';

export function loadShardInputs(files: readonly string[]): ShardInput[] {
  return files.map((file) => {
    const result = readResultFile(file);
    const log = result.systems?.[0]?.intervalLog;
    const hlogFile = log ? path.join(path.dirname(file), log) : undefined;
    return { file, result, ...(hlogFile && fs.existsSync(hlogFile) ? { hlog: fs.readFileSync(hlogFile, 'utf8') } : {}) };
  });
}
