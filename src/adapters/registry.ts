/**
 * Finds the systems: every folder under src/adapters/ with an index.ts exporting
 * `adapter` is one. Adding a system means adding a folder; nothing here changes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SystemAdapter, WorkerSide } from '../core/contract.ts';

const ADAPTERS_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Names of all systems, sorted, with the embedded ring buffer first (it needs no broker). */
export function systemNames(): string[] {
  const names = fs
    .readdirSync(ADAPTERS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(ADAPTERS_DIR, d.name, 'index.ts')))
    .map((d) => d.name)
    .sort();
  return names.sort((a, b) => (a === 'ringbuffer' ? -1 : b === 'ringbuffer' ? 1 : 0));
}

export async function loadAdapter(name: string): Promise<SystemAdapter> {
  const mod = (await import(pathToFileURL(path.join(ADAPTERS_DIR, name, 'index.ts')).href)) as { adapter?: SystemAdapter };
  if (!mod.adapter) throw new Error(`src/adapters/${name}/index.ts does not export 'adapter'`);
  return mod.adapter;
}

export function workerModuleUrl(name: string): string {
  return pathToFileURL(path.join(ADAPTERS_DIR, name, 'worker.ts')).href;
}

export async function loadWorkerSide(name: string): Promise<WorkerSide> {
  const mod = (await import(workerModuleUrl(name))) as { workerSide?: WorkerSide };
  if (!mod.workerSide) throw new Error(`src/adapters/${name}/worker.ts does not export 'workerSide'`);
  return mod.workerSide;
}
