/**
 * Which result files an argument names: a file, a directory (its *.json result files,
 * not descending into run folders) or a glob (`*`, `?`, `**`), so CI can pass
 * 'results/baselines/*.json' quoted and get the same answer on every shell.
 * Node 20 has no fs.glob, hence the small matcher here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BusbenchError, UsageError } from '../../core/errors.ts';
import type { RunResult } from '../../core/result.ts';
import { readResultFile } from './files.ts';

export interface LoadedResult {
  file: string;
  result: RunResult;
}

const GLOB_CHARS = /[*?[]/;

function segmentRegex(segment: string): RegExp {
  let re = '';
  for (const ch of segment) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function listDir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Files matching a glob, sorted. Hidden entries match only a pattern that starts with "." */
export function expandGlob(pattern: string): string[] {
  const absolute = path.isAbsolute(pattern);
  const parts = pattern.split(/[\\/]+/).filter((p) => p !== '');
  const firstGlob = parts.findIndex((p) => GLOB_CHARS.test(p));
  if (firstGlob < 0) return fs.existsSync(pattern) ? [pattern] : [];
  const base = (absolute ? path.sep : '') + parts.slice(0, firstGlob).join(path.sep);
  const out: string[] = [];
  const walk = (dir: string, rest: string[]): void => {
    const [head, ...tail] = rest;
    if (head === undefined) return;
    const dirPath = dir === '' ? '.' : dir;
    if (head === '**') {
      walk(dir, tail); // zero directories
      for (const e of listDir(dirPath)) if (e.isDirectory() && !e.name.startsWith('.')) walk(path.join(dir, e.name), rest);
      return;
    }
    const re = segmentRegex(head);
    for (const e of listDir(dirPath)) {
      if (e.name.startsWith('.') && !head.startsWith('.')) continue;
      if (!re.test(e.name)) continue;
      const p = path.join(dir, e.name);
      if (tail.length === 0) {
        if (e.isFile()) out.push(p);
      } else if (e.isDirectory()) walk(p, tail);
    }
  };
  walk(base, parts.slice(firstGlob));
  return [...new Set(out)].sort();
}

/** A result file's own name; the .hgrm files and run folders next to it are not results. */
function isResultJson(name: string): boolean {
  return name.endsWith('.json') && !name.startsWith('.');
}

/** The result files one argument names, in name order (= time order for busbench's names). */
export function resolveResultPaths(arg: string): string[] {
  if (GLOB_CHARS.test(arg)) {
    const files = expandGlob(arg).filter((f) => isResultJson(path.basename(f)));
    if (files.length === 0) throw new UsageError(`${arg}: no result files match this pattern`);
    return files;
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(arg);
  } catch {
    throw new UsageError(`${arg}: no such file or directory; expected a result file, a directory of them or a glob`);
  }
  if (stat.isDirectory()) {
    const files = listDir(arg)
      .filter((e) => e.isFile() && isResultJson(e.name))
      .map((e) => path.join(arg, e.name))
      .sort();
    if (files.length === 0) throw new UsageError(`${arg}: directory holds no *.json result files`);
    return files;
  }
  return [arg];
}

/**
 * Reads every result file the arguments name, once each. An unreadable or foreign file
 * is bad input to these tools, so it becomes a UsageError (exit 2), not a "regression".
 */
export function loadResults(args: string[]): LoadedResult[] {
  const seen = new Set<string>();
  const out: LoadedResult[] = [];
  for (const arg of args) {
    for (const file of resolveResultPaths(arg)) {
      const key = path.resolve(file);
      if (seen.has(key)) continue;
      seen.add(key);
      try {
        out.push({ file, result: readResultFile(file) });
      } catch (err) {
        if (err instanceof BusbenchError && err.code === 'RESULT') throw new UsageError(err.message);
        throw err;
      }
    }
  }
  return out;
}

/** The newest result file in a directory (busbench names sort by time), for defaults. */
export function newestResult(dir: string): string | undefined {
  const files = listDir(dir)
    .filter((e) => e.isFile() && isResultJson(e.name))
    .map((e) => path.join(dir, e.name))
    .sort();
  return files[files.length - 1];
}
