import { describe, expect, it } from 'vitest';
import { colorEnabled, formatTable, palette, visibleWidth } from '../../src/report/render/table.ts';

describe('formatTable', () => {
  it('aligns text left and numbers right by default, under a rule', () => {
    const t = formatTable(['system', 'msg/s', 'p99'], [
      ['ringbuffer', 946900, '21.43ms'],
      ['nats', 52000, '1.2ms'],
    ]);
    expect(t.split('\n')).toEqual([
      'system       msg/s      p99',
      '──────────  ──────  ───────',
      'ringbuffer  946900  21.43ms',
      'nats         52000    1.2ms',
    ]);
  });

  it('takes explicit alignment, and measures µ and colour codes as the eye does', () => {
    expect(visibleWidth('\x1b[31m12µs\x1b[0m')).toBe(4);
    const t = formatTable(['a', 'b'], [['\x1b[31mred\x1b[0m', 'x'], ['µµ', 'yy']], { align: ['r', 'r'] });
    expect(t.split('\n').map(visibleWidth)).toEqual([7, 7, 7, 7]);
    expect(t.split('\n')[3]).toBe(' µµ  yy');
  });
});

describe('colour', () => {
  it('only on a TTY, and never with NO_COLOR set', () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
    expect(colorEnabled({}, {})).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(palette({ isTTY: true }, {}).red('x')).toBe('\x1b[31mx\x1b[0m');
    expect(palette({ isTTY: true }, { NO_COLOR: '1' }).red('x')).toBe('x');
  });
});
