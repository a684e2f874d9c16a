/**
 * payload: field by field, in a scenario file and as flags, with the one-line refusals;
 * and through the CLI: exit 2, nothing written.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSystems, validateScenario } from '../../src/scenario/scenario.ts';
import { applyFlags, parseFlags } from '../../src/scenario/flags.ts';
import { ConfigError, UsageError } from '../../src/core/errors.ts';
import { MIN_MESSAGE_SIZE } from '../../src/core/envelope.ts';

const systems = ['ringbuffer', 'nats', 'pulsar'];
const ROOT = path.resolve(import.meta.dirname, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-payload-'));
const bodiesFile = path.join(tmp, 'bodies.txt');
fs.writeFileSync(bodiesFile, 'short\n' + 'x'.repeat(1000) + '\n');
fs.writeFileSync(path.join(tmp, 'empty.txt'), '\n\n');

const parse = (payload: unknown, extra: Record<string, unknown> = {}) => validateScenario({ payload, ...extra }, path.join(tmp, 'x.yaml'), systems);
function refusal(payload: unknown, extra: Record<string, unknown> = {}): string {
  try {
    parse(payload, extra);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message.split('\n')).toHaveLength(1);
    return (e as Error).message;
  }
  throw new Error('no error');
}

describe('payload in a scenario file', () => {
  it('is absent by default: the 512-byte order message', () => {
    const s = validateScenario({}, 'x.yaml', systems);
    expect(s.payload).toBeUndefined();
    expect(s.messageSize).toBe(512);
  });

  it('size: fixed, or a range with a distribution (default uniform); messageSize is the largest message', () => {
    expect(parse({ size: 1024 })).toMatchObject({ messageSize: 1024, payload: { size: { kind: 'fixed', bytes: 1024 }, randomBytes: 0, seed: 1, verify: 'sampled' } });
    expect(parse({ size: '300..2000' })).toMatchObject({ messageSize: 2000, payload: { size: { kind: 'range', min: 300, max: 2000, distribution: 'uniform' } } });
    expect(parse({ size: '300..2000', distribution: 'lognormal' }).payload!.size).toEqual({ kind: 'range', min: 300, max: 2000, distribution: 'lognormal' });
  });

  it('size: below the envelope is refused with the envelope size, and so are bad ranges', () => {
    expect(refusal({ size: 100 })).toBe(`${path.join(tmp, 'x.yaml')}: payload.size: expected a whole message size from ${MIN_MESSAGE_SIZE} (the envelope busbench needs) to 1048576 bytes, or a range such as "200..2000", got 100`);
    expect(refusal({ size: '100..2000' })).toMatch(new RegExp(`payload.size: expected a whole message size from ${MIN_MESSAGE_SIZE} .*got "100..2000"$`));
    expect(refusal({ size: '2000..300' })).toMatch(/payload.size: expected a range whose end is above its start/);
    expect(refusal({ size: 'big' })).toMatch(/payload.size: .*got "big"$/);
    expect(refusal({ size: 2_000_000 })).toMatch(/payload.size: .*got 2000000$/);
  });

  it('distribution: uniform or lognormal, and only with a range', () => {
    expect(refusal({ size: '300..900', distribution: 'normal' })).toMatch(/payload.distribution: expected one of uniform, lognormal, got "normal"$/);
    expect(refusal({ size: 512, distribution: 'uniform' })).toMatch(/payload.distribution: expected nothing with a fixed size/);
  });

  it('randomBytes: a share from 0 to 1', () => {
    expect(parse({ size: 512, randomBytes: 0.25 }).payload!.randomBytes).toBe(0.25);
    expect(refusal({ size: 512, randomBytes: 1.5 })).toMatch(/payload.randomBytes: expected a share of the body from 0 to 1 .*got 1.5$/);
    expect(refusal({ size: 512, randomBytes: '50%' })).toMatch(/payload.randomBytes: .*got "50%"$/);
  });

  it('file: relative to the scenario file, one body per line; its longest line sets messageSize', () => {
    const s = parse({ file: 'bodies.txt' });
    expect(s.payload!.file).toBe(bodiesFile);
    expect(s.messageSize).toBe(MIN_MESSAGE_SIZE + 1000);
    expect(refusal({ file: 'nope.txt' })).toMatch(/payload.file: expected an existing file of payload bodies, one per line, got "nope.txt"$/);
    expect(refusal({ file: 'empty.txt' })).toMatch(/payload.file: expected a file with at least one non-empty line/);
    expect(refusal({ file: 'bodies.txt', size: 512 })).toMatch(/payload.file: expected nothing with payload.size/);
    expect(refusal({ file: 'bodies.txt', randomBytes: 0.5 })).toMatch(/payload.randomBytes: expected nothing with a file/);
  });

  it('seed and verify', () => {
    expect(parse({ size: 512, seed: 42, verify: 'all' }).payload).toMatchObject({ seed: 42, verify: 'all' });
    expect(refusal({ size: 512, seed: -1 })).toMatch(/payload.seed: expected an integer from 0 to 4294967295, got -1$/);
    expect(refusal({ size: 512, verify: 'some' })).toMatch(/payload.verify: expected one of all, sampled, off, got "some"$/);
  });

  it('refuses messageSize beside it, unknown fields, and a mapping without size or file', () => {
    expect(refusal({ size: 512 }, { messageSize: 512 })).toMatch(/: messageSize: expected nothing with payload \(payload.size sets the message size; messageSize is its fixed-size shorthand\), got 512$/);
    expect(refusal({ size: 512, bytes: 3 })).toMatch(/payload: expected the fields size, distribution, randomBytes, file, seed, verify, got "bytes"$/);
    expect(refusal({ seed: 3 })).toMatch(/payload.size: expected .*, or a file, got nothing$/);
    expect(refusal(512)).toMatch(/payload: expected a mapping/);
  });

  it('a backlog by size needs payload sizes that do not vary', () => {
    const s = parse({ size: '300..900' }, { rate: 1000, backlog: { size: '1MB' } });
    expect(() => checkSystems(s, systems)).toThrow(/backlog.size: expected a count of messages/);
    expect(() => checkSystems(parse({ size: '300..900' }, { rate: 1000, backlog: { messages: 1000 } }), systems)).not.toThrow();
  });
});

describe('payload flags', () => {
  const base = validateScenario({}, 'x.yaml', systems);
  const withFlags = (argv: string[], s = base) => applyFlags(s, parseFlags(argv, systems));
  const flagRefusal = (argv: string[], s = base): string => {
    try {
      withFlags(argv, s);
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      return (e as Error).message;
    }
    throw new Error('no error');
  };

  it('build a payload, or change the scenario\'s field by field', () => {
    expect(withFlags(['--payload-size', '300..900', '--payload-dist', 'lognormal', '--payload-random-bytes', '0.5', '--payload-seed', '9', '--payload-verify', 'all'])).toMatchObject({
      messageSize: 900,
      payload: { size: { kind: 'range', min: 300, max: 900, distribution: 'lognormal' }, randomBytes: 0.5, seed: 9, verify: 'all' },
    });
    const file = validateScenario({ payload: { size: '300..900', distribution: 'lognormal', seed: 4 } }, 'x.yaml', systems);
    expect(withFlags(['--payload-verify', 'off'], file).payload).toMatchObject({ size: { kind: 'range', distribution: 'lognormal' }, seed: 4, verify: 'off' });
    expect(withFlags(['--payload-size', '700'], file)).toMatchObject({ messageSize: 700, payload: { size: { kind: 'fixed', bytes: 700 }, seed: 4 } });
    expect(withFlags(['--payload-file', bodiesFile], file)).toMatchObject({ messageSize: MIN_MESSAGE_SIZE + 1000, payload: { file: bodiesFile, seed: 4 } });
    expect(withFlags([]).payload).toBeUndefined();
  });

  it('refuse bad values in one line naming the flag, and --size beside them', () => {
    expect(flagRefusal(['--payload-size', '10'])).toBe(`--payload-size 10: expected a whole message size from ${MIN_MESSAGE_SIZE} (the envelope busbench needs) to 1048576 bytes, or a range such as "200..2000"`);
    expect(flagRefusal(['--payload-size', '300..900', '--payload-dist', 'zipf'])).toMatch(/^--payload-dist zipf: expected one of uniform, lognormal$/);
    expect(flagRefusal(['--payload-size', '512', '--payload-random-bytes', '2'])).toMatch(/^--payload-random-bytes 2: expected a share/);
    expect(flagRefusal(['--payload-file', '/nonexistent/bodies'])).toMatch(/^--payload-file \/nonexistent\/bodies: expected an existing file/);
    expect(flagRefusal(['--payload-size', '512', '--payload-seed', 'x'])).toMatch(/^--payload-seed x: expected an integer/);
    expect(flagRefusal(['--payload-random-bytes', '0.5'])).toMatch(/^--payload-size \(missing\): expected .*, or a file$/);
    expect(flagRefusal(['--size', '600', '--payload-size', '512'])).toMatch(/^--size 600: not with --payload-size/);
    const file = validateScenario({ payload: { size: 512 } }, 'x.yaml', systems);
    expect(flagRefusal(['--size', '600'], file)).toMatch(/^--size 600: not with the scenario's payload \(use --payload-size\)$/);
  });
});

describe('payload refusals through the CLI', () => {
  it.each([
    [['--payload-size', '100'], new RegExp(`--payload-size 100: expected a whole message size from ${MIN_MESSAGE_SIZE}`)],
    [['--payload-size', '300..900', '--payload-verify', 'maybe'], /--payload-verify maybe: expected one of all, sampled, off/],
    [['--payload-size', '2048', '--set', 'ringbuffer.capacity=1KiB'], /messageSize: expected a message that fits in a lane of 1024 bytes .*got 2048/],
  ])('%j: one line, exit 2, nothing written', (args, pattern) => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'busbench-cli-'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/bench.ts', '--scenario', 'tps', '--systems', 'ringbuffer', ...args, '--duration', '1s', '--out', out], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 120_000 });
    const written = fs.readdirSync(out);
    fs.rmSync(out, { recursive: true, force: true });
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.status).toBe(2);
    expect(written).toEqual([]);
  });
});
