/**
 * The busbench image (deploy/kubernetes/Dockerfile) cannot be built here (no container
 * engine), so what can be checked without one is: it passes a Dockerfile linter, it is
 * on the Node LTS CI runs on, everything it copies exists and is not ignored, and its
 * entry point, run in a folder laid out as the image lays out /app, is the bench CLI.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DOCKERFILE = path.join(ROOT, 'deploy/kubernetes/Dockerfile');
const text = fs.readFileSync(DOCKERFILE, 'utf8');
const instructions = DockerfileParser.parse(text).getInstructions();
const all = (keyword: string): Instruction[] => instructions.filter((i) => i.getKeyword() === keyword);
const values = (i: Instruction): string[] => i.getArguments().map((a) => a.getValue());
/** ENTRYPOINT/CMD in exec form: a JSON array (the shell form would put sh in front of the CLI). */
const execForm = (keyword: string): string[] => JSON.parse(all(keyword).at(-1)!.getArgumentsContent()!) as string[];
const copies = all('COPY').map((i) => {
  const v = values(i);
  return { sources: v.slice(0, -1), dest: v.at(-1)! };
});

describe('the busbench image', () => {
  it('passes the Dockerfile linter without a finding', () => {
    expect(validate(text)).toEqual([]);
  });

  it('is on the Node LTS release CI runs on (.nvmrc)', () => {
    const nvmrc = fs.readFileSync(path.join(ROOT, '.nvmrc'), 'utf8').trim();
    expect(all('FROM').map(values)).toEqual([[`node:${nvmrc}-bookworm-slim`]]);
    expect(nvmrc.split('.')[0]).toBe('24');
  });

  it('copies only files that exist in the build context and are not ignored', () => {
    const ignored = fs.readFileSync(`${DOCKERFILE}.dockerignore`, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(copies.length).toBeGreaterThan(0);
    for (const { sources } of copies) {
      for (const s of sources) {
        expect(fs.existsSync(path.join(ROOT, s)), s).toBe(true);
        expect(ignored.filter((pattern) => s.replace(/\/$/, '') === pattern.replace(/\/$/, '')), s).toEqual([]);
      }
    }
  });

  it('its entry point, in the folder the image lays out, is the bench CLI', () => {
    const app = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-image-'));
    try {
      expect(all('WORKDIR').map(values)).toEqual([['/app']]);
      for (const { sources, dest } of copies) {
        for (const s of sources) fs.cpSync(path.join(ROOT, s), path.join(app, dest, dest.endsWith('/') && !s.endsWith('/') ? path.basename(s) : ''), { recursive: true });
      }
      // what `npm ci --omit=dev` installs: the repository's own modules stand in for it
      fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(app, 'node_modules'));
      const [program, ...args] = [...execForm('ENTRYPOINT'), ...execForm('CMD')];
      expect(program).toBe('node');
      const r = spawnSync(process.execPath, args, { cwd: app, encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/--scenario <name\|file>/);
      expect(r.stdout).toMatch(/\btps\b/); // the scenarios the image ships
      // the merge Job runs `npm run merge` in the same image
      const scripts = (JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
      expect(scripts.merge).toBe('tsx bench/merge.ts');
      const merge = spawnSync(process.execPath, ['--import', 'tsx', 'bench/merge.ts', '--help'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
      expect([merge.status, merge.stdout]).toEqual([0, expect.stringMatching(/usage: npm run merge -- <shard result>/)]);
    } finally {
      fs.rmSync(app, { recursive: true, force: true });
    }
  }, 90_000);
});
