/**
 * Finds the systems: every folder under src/adapters/ with an index.ts exporting
 * `adapter` is one. Adding a system means adding a folder; nothing here changes.
 *
 * The engine runs many systems and holds them erased (`ErasedAdapter`, `ErasedWorkerSide`):
 * the loaders below are where a system's own types are dropped. That is sound because the
 * engine hands an adapter back only what that adapter's parseOptions returned, and a worker
 * side only the workerInit of its own system's session.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SystemAdapter, WorkerSide } from '../core/contract.ts';
import { BusbenchError, UsageError } from '../core/errors.ts';

const ADAPTERS_DIR = path.dirname(fileURLToPath(import.meta.url));

/** A system as the engine holds it: options and worker init of whatever shape it made them. */
export type ErasedAdapter = SystemAdapter;
export type ErasedWorkerSide = WorkerSide;

function folders(): string[] {
  return fs
    .readdirSync(ADAPTERS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(ADAPTERS_DIR, d.name, 'index.ts')))
    .map((d) => d.name)
    .sort();
}

/**
 * Names of all systems: those that need no broker first (they run in seconds and show what
 * the harness itself can move), then the rest; by name within each group.
 */
export async function systemNames(): Promise<string[]> {
  const names = folders();
  const adapters = await Promise.all(names.map(loadAdapter));
  const brokerless = names.filter((_, i) => !adapters[i]!.needsBroker);
  return [...brokerless, ...names.filter((n) => !brokerless.includes(n))];
}

export async function loadAdapter(name: string): Promise<ErasedAdapter> {
  const mod = (await import(pathToFileURL(path.join(ADAPTERS_DIR, name, 'index.ts')).href)) as { adapter?: ErasedAdapter };
  if (!mod.adapter) throw new BusbenchError('ADAPTER', `src/adapters/${name}/index.ts does not export 'adapter'`);
  return mod.adapter;
}

export function workerModuleUrl(name: string): string {
  return pathToFileURL(path.join(ADAPTERS_DIR, name, 'worker.ts')).href;
}

/** The worker side exported by a module (a system's worker.ts, or a test's stand-in). */
export async function workerSideAt(moduleUrl: string): Promise<ErasedWorkerSide> {
  const mod = (await import(moduleUrl)) as { workerSide?: ErasedWorkerSide };
  if (!mod.workerSide) throw new BusbenchError('ADAPTER', `${moduleUrl} does not export 'workerSide'`);
  return mod.workerSide;
}

export function loadWorkerSide(name: string): Promise<ErasedWorkerSide> {
  return workerSideAt(workerModuleUrl(name));
}

/** --brokers external attaches to brokers the user runs: each system that has one needs its URL. */
export function requireBrokerUrls(adapters: Iterable<ErasedAdapter>, brokers: 'native' | 'compose' | 'external', urls: Record<string, string>): void {
  if (brokers !== 'external') return;
  for (const a of adapters) if (a.needsBroker && !urls[a.name]) throw new UsageError(`--brokers external needs --url ${a.name}=<url>`);
}
