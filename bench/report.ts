/**
 * npm run report -- <result file|dir|glob>... [--out report.html|DIR] [--format html|gab|gab-throughput|bmf]
 *
 * html: one self-contained page (tables, percentile and over-time charts, parameters).
 * gab / gab-throughput: github-action-benchmark customSmallerIsBetter / customBiggerIsBetter JSON.
 * bmf: Bencher Metric Format JSON. Machine formats go to stdout without --out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../src/core/errors.ts';
import { parseArgs, usageText, type FlagSpec } from '../src/report/io/args.ts';
import { runCli } from '../src/report/io/cli.ts';
import { writeAtomic } from '../src/report/io/files.ts';
import { FORMATS, parseFormat, toBmf, toGab } from '../src/report/io/formats.ts';
import { renderReport } from '../src/report/render/html.ts';
import { loadResults } from '../src/report/io/inputs.ts';
import { chatty } from '../src/report/render/table.ts';

const FLAGS: FlagSpec[] = [
  { name: 'out', value: '<file|dir>', help: 'where to write: a file, or a folder to write report.html (or <format>.json) into, as bench --out does; html default: report.html; other formats default: stdout' },
  { name: 'format', value: `<${FORMATS.join('|')}>`, help: 'html (default), gab, gab-throughput, bmf' },
  { name: 'json', help: 'print {"out", "format", "inputs"} to stdout after writing' },
  { name: 'help', help: 'show this help' },
];

function main(argv: string[]): number {
  const args = parseArgs(argv, FLAGS);
  if (args.booleans.has('help')) {
    process.stdout.write(usageText('report', '<result file|dir|glob>... [flags]', FLAGS) + '\n');
    return 0;
  }
  if (args.positional.length === 0) throw new UsageError('no result files given; usage: npm run report -- results/<run>.json [...] [--out report.html]');
  const format = parseFormat(args.values.get('format') ?? 'html');
  const inputs = loadResults(args.positional);
  const text =
    format === 'html'
      ? renderReport(inputs)
      : JSON.stringify(format === 'bmf' ? toBmf(inputs) : toGab(inputs, format === 'gab' ? 'latency' : 'throughput'), null, 2) + '\n';
  const asked = args.values.get('out') ?? (format === 'html' ? 'report.html' : undefined);
  if (asked === undefined) {
    process.stdout.write(text);
    return 0;
  }
  const out = outputFile(asked, format);
  const replaced = fs.existsSync(out);
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  writeAtomic(out, text);
  if (args.booleans.has('json')) process.stdout.write(JSON.stringify({ out, format, inputs: inputs.map((i) => i.file), replaced }) + '\n');
  else if (chatty() || replaced) process.stderr.write(`report: ${replaced ? 'replaced' : 'wrote'} ${out} (${format}, ${inputs.length} result file(s))\n`);
  return 0;
}

/**
 * `--out` names a file, or a folder (one that exists, or any path ending in a slash) to
 * write into under the format's own name, so that `bench --out DIR` and
 * `report --out DIR` can share one folder.
 */
function outputFile(asked: string, format: string): string {
  const isDir = /[\\/]$/.test(asked) || (fs.existsSync(asked) && fs.statSync(asked).isDirectory());
  return isDir ? path.join(asked, format === 'html' ? 'report.html' : `${format}.json`) : asked;
}

runCli('report', main);
