/**
 * Hand-written SVG line charts for the HTML report: no library, no script, nothing to
 * fetch, so the page opens offline and stays small; the few chart types we need (lines
 * on linear or log axes, a legend, a shaded band) fit in this file.
 *
 * Every series is one <path class="series" data-series="<label>"> with a <title> (the
 * browser's tooltip), and every chart is <svg data-chart="<id>">, so tests and people
 * with a DOM inspector can find them.
 */
import { escapeXml } from './escape.ts';

export interface Tick {
  value: number;
  label: string;
}

export interface Axis {
  label: string;
  log?: boolean;
  min: number;
  max: number;
  ticks: Tick[];
}

export interface LineSeries {
  label: string;
  color: string;
  /** SVG stroke-dasharray, e.g. "6 4" */
  dash?: string;
  /** stroke opacity, to tell repetitions of one series apart while keeping its colour */
  opacity?: number;
  /** null breaks the line: no data there (e.g. an interval in which nothing arrived) */
  points: Array<[number, number] | null>;
}

export interface Band {
  from: number;
  to: number;
  label: string;
}

export interface ChartSpec {
  id: string;
  title: string;
  x: Axis;
  y: Axis;
  series: LineSeries[];
  bands?: Band[];
  width?: number;
  height?: number;
  /** a line under the title, e.g. the scale or what the lines are */
  note?: string;
}

/** Okabe–Ito colour-blind-safe palette, then darker variants for more series. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442', '#004c7a', '#8f3f00', '#006b4f', '#8a4f73'];

const MARGIN = { left: 78, right: 48, top: 52, bottom: 46 };
const LEGEND_ROW = 20;
const CHAR_PX = 7; // 12px sans-serif, on average

function fmt(n: number): string {
  return Number.isFinite(n) ? String(Math.round(n * 10) / 10) : '0';
}

function scaler(axis: Axis, from: number, to: number): (v: number) => number {
  const f = (v: number): number => (axis.log ? Math.log10(Math.max(v, axis.min)) : v);
  const lo = f(axis.min);
  const hi = f(axis.max);
  const span = hi - lo || 1;
  return (v) => from + ((Math.min(Math.max(f(v), lo), hi) - lo) / span) * (to - from);
}

/** Legend entries laid out left to right, wrapping at the chart's width. */
function legendLayout(series: LineSeries[], width: number): { items: Array<{ s: LineSeries; x: number; row: number }>; rows: number } {
  const items: Array<{ s: LineSeries; x: number; row: number }> = [];
  let x = MARGIN.left;
  let row = 0;
  for (const s of series) {
    const w = 34 + s.label.length * CHAR_PX + 18;
    if (x + w > width - MARGIN.right && x > MARGIN.left) {
      row++;
      x = MARGIN.left;
    }
    items.push({ s, x, row });
    x += w;
  }
  return { items, rows: series.length ? row + 1 : 0 };
}

/** "M x y L x y …", starting a new subpath after every gap. */
function pathData(points: LineSeries['points'], sx: (v: number) => number, sy: (v: number) => number): string {
  const parts: string[] = [];
  let pen: 'M' | 'L' = 'M';
  for (const p of points) {
    if (p === null) {
      pen = 'M';
      continue;
    }
    parts.push(`${pen}${fmt(sx(p[0]))} ${fmt(sy(p[1]))}`);
    pen = 'L';
  }
  return parts.join(' ');
}

/** The values of a chart's lines, gaps left out, for choosing its axes. */
export function seriesValues(series: LineSeries[], axis: 0 | 1): number[] {
  return series.flatMap((s) => s.points.flatMap((p) => (p ? [p[axis]] : [])));
}

function strokeStyle(s: LineSeries): string {
  return `${s.dash ? ` stroke-dasharray="${escapeXml(s.dash)}"` : ''}${s.opacity !== undefined && s.opacity < 1 ? ` stroke-opacity="${s.opacity}"` : ''}`;
}

export function lineChart(spec: ChartSpec): string {
  const width = spec.width ?? 1040;
  const plotHeight = (spec.height ?? 420) - MARGIN.top - MARGIN.bottom;
  const legend = legendLayout(spec.series, width);
  const height = MARGIN.top + plotHeight + MARGIN.bottom + legend.rows * LEGEND_ROW + 8;
  const x0 = MARGIN.left;
  const x1 = width - MARGIN.right;
  const y0 = MARGIN.top + plotHeight;
  const y1 = MARGIN.top;
  const sx = scaler(spec.x, x0, x1);
  const sy = scaler(spec.y, y0, y1);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${escapeXml(spec.id)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(spec.title)}">`,
  );
  out.push(`<text class="title" x="${x0}" y="22">${escapeXml(spec.title)}</text>`);
  if (spec.note) out.push(`<text class="note" x="${x0}" y="40">${escapeXml(spec.note)}</text>`);
  for (const b of spec.bands ?? []) {
    const bx = sx(b.from);
    const bw = Math.max(2, sx(b.to) - bx);
    out.push(`<g class="band"><rect x="${fmt(bx)}" y="${y1}" width="${fmt(bw)}" height="${plotHeight}"/><text x="${fmt(bx + 4)}" y="${y1 + 14}">${escapeXml(b.label)}</text></g>`);
  }
  for (const t of spec.y.ticks) {
    const y = sy(t.value);
    out.push(`<line class="grid" x1="${x0}" x2="${x1}" y1="${fmt(y)}" y2="${fmt(y)}"/><text class="tick" x="${x0 - 6}" y="${fmt(y + 4)}" text-anchor="end">${escapeXml(t.label)}</text>`);
  }
  for (const t of spec.x.ticks) {
    const x = sx(t.value);
    out.push(`<line class="grid" x1="${fmt(x)}" x2="${fmt(x)}" y1="${y1}" y2="${y0}"/><text class="tick" x="${fmt(x)}" y="${y0 + 16}" text-anchor="middle">${escapeXml(t.label)}</text>`);
  }
  out.push(`<rect class="frame" x="${x0}" y="${y1}" width="${x1 - x0}" height="${plotHeight}"/>`);
  out.push(`<text class="axis-label" x="${(x0 + x1) / 2}" y="${y0 + 36}" text-anchor="middle">${escapeXml(spec.x.label)}</text>`);
  out.push(`<text class="axis-label" transform="translate(16 ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.y.label)}</text>`);
  for (const s of spec.series) {
    const d = pathData(s.points, sx, sy);
    if (!d) continue;
    const dash = strokeStyle(s);
    out.push(`<path class="series" data-series="${escapeXml(s.label)}" d="${d}" stroke="${escapeXml(s.color)}"${dash}><title>${escapeXml(s.label)}</title></path>`);
  }
  const ly = y0 + MARGIN.bottom;
  for (const { s, x, row } of legend.items) {
    const y = ly + row * LEGEND_ROW;
    const dash = strokeStyle(s);
    out.push(
      `<g class="legend-item"><line x1="${x}" x2="${x + 26}" y1="${y}" y2="${y}" stroke="${escapeXml(s.color)}"${dash}/><text x="${x + 32}" y="${y + 4}">${escapeXml(s.label)}</text></g>`,
    );
  }
  out.push('</svg>');
  return out.join('\n');
}

/** Round linear ticks (1, 2, 2.5, 5 × 10^k steps) covering [min, max]. */
export function linearTicks(min: number, max: number, target = 6, format: (v: number) => string = String): { min: number; max: number; ticks: Tick[] } {
  if (!(max > min)) max = min + 1;
  const raw = (max - min) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const ticks: Tick[] = [];
  for (let v = lo; v <= hi + step / 2; v += step) ticks.push({ value: Math.round(v * 1e9) / 1e9, label: format(Math.round(v * 1e9) / 1e9) });
  return { min: lo, max: hi, ticks };
}

/** Decade ticks with 2 and 5 in between when the range is short, for a log axis. */
export function logTicks(min: number, max: number, format: (v: number) => string = String): { min: number; max: number; ticks: Tick[] } {
  const lo = 10 ** Math.floor(Math.log10(Math.max(min, 1e-9)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(max, lo * 10)));
  const decades = Math.round(Math.log10(hi / lo));
  const steps = decades <= 3 ? [1, 2, 5] : [1];
  const ticks: Tick[] = [];
  for (let d = lo; d <= hi * 1.0001; d *= 10) for (const m of steps) if (d * m <= hi * 1.0001) ticks.push({ value: d * m, label: format(d * m) });
  return { min: lo, max: hi, ticks };
}
