/**
 * npm run merge -- <shard result>... [--out DIR] [--json]
 *
 * One result from the results of every shard of a run (bench --shard i/N): histograms
 * added, ledgers united, every verdict recomputed (src/checks/merge/). Shards of different
 * runs, producer ids two shards claim, a missing shard or windows that do not overlap are
 * refused with one line, exit 2, nothing written. Exit 1 when the merged run has findings.
 */
import path from 'node:path';
import fs from 'node:fs';
import { BusbenchError, UsageError } from '../src/core/errors.ts';
import { mergeShards } from '../src/checks/merge/index.ts';
import { summarizeCells } from '../src/scenario/matrix.ts';
import { parseArgs, usageText, type FlagSpec } from '../src/report/io/args.ts';
import { runCli } from '../src/report/io/cli.ts';
import { timestampForFile, uniqueBase } from '../src/report/io/files.ts';
import { loadShardInputs, writeMergedFiles } from '../src/report/io/shard-files.ts';
import { summaryTable } from '../src/report/render/console.ts';

const FLAGS: FlagSpec[] = [
  { name: 'out', value: '<dir>', help: 'where the merged result goes (default results/)' },
  { name: 'json', help: 'print the merged result document to stdout' },
  { name: 'help', help: 'show this help' },
];

function main(argv: string[]): number {
  const args = parseArgs(argv, FLAGS);
  if (args.booleans.has('help')) {
    process.stdout.write(usageText('merge', '<shard result>... [flags]', FLAGS) + '\n');
    return 0;
  }
  if (args.positional.length === 0) throw new UsageError('no shard results given; usage: npm run merge -- <shard-0.json> <shard-1.json> ... [--out DIR]');
  let inputs;
  try {
    inputs = loadShardInputs(args.positional);
  } catch (err) {
    // a file that is no result is bad input to merge, like any other refusal
    if (err instanceof BusbenchError && err.code === 'RESULT') throw new UsageError(err.message);
    throw err;
  }
  const run = mergeShards(inputs);
  const merged = run.result;
  merged.cells = summarizeCells(merged.systems);
  const outDir = args.values.get('out') ?? 'results';
  fs.mkdirSync(outDir, { recursive: true });
  const files = writeMergedFiles(uniqueBase(outDir, timestampForFile(new Date()), `${merged.scenario}-merged`), run);
  const out = args.booleans.has('json') ? process.stderr : process.stdout;
  out.write(summaryTable(merged, out) + '\n\n');
  out.write(`merged ${inputs.length} shards: ${path.relative(process.cwd(), files.json)}\n`);
  if (args.booleans.has('json')) process.stdout.write(JSON.stringify(merged, null, 2) + '\n');
  return merged.ok ? 0 : 1;
}

runCli('merge', main);
