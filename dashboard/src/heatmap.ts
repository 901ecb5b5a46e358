// The heatmap page's state and the arithmetic of drawing it. The server counts
// clicks in cells (`[column, row, count]`: a column is a slice of the document's
// width, a row `row_height` document pixels), up to tens of thousands of them. The
// page spreads each cell's count a little over its neighbours (so that a lone
// click still shows as a spot), colours that density on a log scale into a small
// image, one pixel per cell (columns × rows), and lets the canvas scale it up,
// smoothed, over the page's outline: a few milliseconds for any number of clicks,
// and no element per cell.

import type { Heatmap, HeatmapKind } from './api';
import { reportFromQuery, reportParams, reportToQuery, type ReportView } from './report';

export const HEATMAP_KINDS: ReadonlyArray<{ value: HeatmapKind; label: string }> = [
  { value: 'click', label: 'All clicks' },
  { value: 'rage_click', label: 'Rage clicks' },
  { value: 'dead_click', label: 'Dead clicks' },
];

export interface HeatmapView extends ReportView {
  kind: HeatmapKind;
}

export function heatmapViewFromQuery(query: Record<string, string>): HeatmapView {
  const kind = HEATMAP_KINDS.some((k) => k.value === query.kind) ? (query.kind as HeatmapKind) : 'click';
  return { ...reportFromQuery(query), kind };
}

/** The address's query; all clicks (the default) is left out. */
export function heatmapViewToQuery(view: HeatmapView): Record<string, string> {
  return { ...reportToQuery(view), kind: view.kind === 'click' ? '' : view.kind };
}

/** `GET …/heatmap`'s parameters; it needs a page. */
export function heatmapParams(view: HeatmapView): Record<string, string> {
  return { ...reportParams(view), kind: view.kind };
}

/** How many colours the map uses, from the fewest clicks to the most. */
export const RAMP_STEPS = 32;

/** The ramp's stops: blue, cyan, green, yellow, red; the more clicks, the more opaque. */
const STOPS: Array<[number, number, number, number]> = [
  [40, 90, 255, 0.35],
  [0, 190, 255, 0.5],
  [30, 200, 80, 0.62],
  [255, 210, 0, 0.75],
  [230, 30, 30, 0.88],
];

/** The ramp's colours as RGBA bytes, `steps` × 4, not premultiplied (as ImageData wants them). */
export function rampRGBA(steps = RAMP_STEPS): Uint8ClampedArray {
  const out = new Uint8ClampedArray(steps * 4);
  for (let i = 0; i < steps; i++) {
    const t = steps === 1 ? 1 : (i / (steps - 1)) * (STOPS.length - 1);
    const at = Math.min(STOPS.length - 2, Math.floor(t));
    const f = t - at;
    const [a, b] = [STOPS[at], STOPS[at + 1]];
    for (let c = 0; c < 4; c++) {
      const v = a[c] + (b[c] - a[c]) * f;
      out[i * 4 + c] = c === 3 ? Math.round(v * 255) : Math.round(v);
    }
  }
  return out;
}

/** The same ramp as CSS colours, for the legend. */
export function rampCss(steps = RAMP_STEPS): string[] {
  const bytes = rampRGBA(steps);
  const out: string[] = [];
  for (let i = 0; i < steps; i++) {
    out.push(`rgba(${bytes[i * 4]}, ${bytes[i * 4 + 1]}, ${bytes[i * 4 + 2]}, ${(bytes[i * 4 + 3] / 255).toFixed(2)})`);
  }
  return out;
}

/**
 * Which of `steps` colours a count (or density) gets: on a log scale relative to
 * `max` (log(1 + count) / log(1 + max)), so that a cell with one click still shows
 * beside one with a hundred thousand. `max` is the last colour; nothing (0) is -1,
 * not drawn.
 */
export function rampIndex(count: number, max: number, steps = RAMP_STEPS): number {
  if (!(count > 0)) return -1;
  if (!(max > 0) || count >= max) return steps - 1;
  return Math.min(steps - 1, Math.floor((Math.log1p(count) / Math.log1p(max)) * steps));
}

/** How far a cell's count spreads, in cells: a Gaussian of σ = 1 cell, cut below 5%. */
export const SPREAD = 2;
const KERNEL: Array<[number, number, number]> = [];
for (let dy = -SPREAD; dy <= SPREAD; dy++) {
  for (let dx = -SPREAD; dx <= SPREAD; dx++) {
    const w = Math.exp(-(dx * dx + dy * dy) / 2);
    if (w >= 0.05) KERNEL.push([dx, dy, w]);
  }
}

/**
 * The click density of each cell of a `columns` × `rows` grid: every cell's count
 * spread over its neighbours (the cell itself keeps its whole count), and the
 * highest density. Cells outside the grid, or without clicks, add nothing.
 */
export function density(
  columns: number,
  rows: number,
  cells: ReadonlyArray<readonly [number, number, number]>,
): { field: Float32Array; peak: number; inside: number } {
  const field = new Float32Array(columns * rows);
  let inside = 0;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    const column = cell[0];
    const row = cell[1];
    const count = cell[2];
    if (!(count > 0) || column < 0 || column >= columns || row < 0 || row >= rows) continue;
    inside++;
    for (let k = 0; k < KERNEL.length; k++) {
      const x = column + KERNEL[k][0];
      const y = row + KERNEL[k][1];
      if (x >= 0 && x < columns && y >= 0 && y < rows) field[y * columns + x] += count * KERNEL[k][2];
    }
  }
  let peak = 0;
  for (let i = 0; i < field.length; i++) if (field[i] > peak) peak = field[i];
  return { field, peak, inside };
}

/** The rows to paint: enough for the page's height, and for any cell below it. */
export function rowsOf(map: Pick<Heatmap, 'height' | 'row_height' | 'cells'>): number {
  let rows = map.row_height > 0 ? Math.ceil(map.height / map.row_height) : 0;
  for (const cell of map.cells) if (cell[1] + 1 > rows) rows = cell[1] + 1;
  return Math.max(1, rows);
}

/**
 * Paints the click density into `pixels`, an RGBA image `columns` wide and `rows`
 * tall (ImageData's layout), one pixel per cell in its ramp colour relative to the
 * densest cell; cells without clicks nearby stay transparent. Returns how many of
 * `cells` fell inside the image.
 */
export function paintCells(
  pixels: Uint8ClampedArray,
  columns: number,
  rows: number,
  cells: ReadonlyArray<readonly [number, number, number]>,
  ramp: Uint8ClampedArray = rampRGBA(),
): number {
  const { field, peak, inside } = density(columns, rows, cells);
  if (!(peak > 0)) return inside;
  const steps = ramp.length / 4;
  // The log of the peak once, not per pixel: this loop runs for every pixel.
  const scale = steps / Math.log1p(peak);
  for (let i = 0; i < field.length; i++) {
    const v = field[i];
    if (!(v > 0)) continue;
    const step = Math.min(steps - 1, Math.floor(Math.log1p(v) * scale));
    const at = i * 4;
    const from = step * 4;
    pixels[at] = ramp[from];
    pixels[at + 1] = ramp[from + 1];
    pixels[at + 2] = ramp[from + 2];
    pixels[at + 3] = ramp[from + 3];
  }
  return inside;
}

/** The tallest canvas drawn: browsers refuse much taller ones, and nobody scrolls further. */
export const MAX_CANVAS_HEIGHT = 16_000;

export interface MapGeometry {
  /** The canvas's size in pixels. */
  width: number;
  height: number;
  /** Canvas pixels per document pixel, across and down (down is less only for a page too tall to draw whole). */
  scaleX: number;
  scaleY: number;
}

/**
 * Where the page's outline goes: `width` × `height` document pixels scaled to the
 * panel's width. A page without a known size is drawn 4:3.
 */
export function mapGeometry(
  map: Pick<Heatmap, 'width' | 'height'>,
  panelWidth: number,
  maxHeight = MAX_CANVAS_HEIGHT,
): MapGeometry {
  const width = Math.max(1, Math.round(panelWidth));
  const docWidth = map.width > 0 ? map.width : width;
  const docHeight = map.height > 0 ? map.height : (docWidth * 3) / 4;
  const scaleX = width / docWidth;
  const height = Math.max(1, Math.min(maxHeight, Math.round(docHeight * scaleX)));
  return { width, height, scaleX, scaleY: height / docHeight };
}

export interface ScrollBar {
  depth: number;
  views: number;
  /** Of all the page's views, 0 to 1. */
  share: number;
}

/** The scroll-depth bars: the share of views that reached each depth. */
export function scrollBars(scroll: Heatmap['scroll']): ScrollBar[] {
  return [...scroll.reached]
    .sort((a, b) => a.depth - b.depth)
    .map((r) => ({ depth: r.depth, views: r.views, share: scroll.views > 0 ? Math.min(1, r.views / scroll.views) : 0 }));
}

/** The image drawn beneath the clicks: the page's newest screenshot, if there is one. */
export function backgroundOf(map: Pick<Heatmap, 'screenshot' | 'background_url'>): string | null {
  return map.background_url || map.screenshot || null;
}

/** Whether a new answer draws differently from the last one drawn (polls mostly bring the same). */
export function mapSignature(map: Heatmap): string {
  const last = map.cells[map.cells.length - 1];
  return [map.page, map.kind, map.clicks, map.max, map.cells.length, map.width, map.height, map.columns, map.row_height, backgroundOf(map), last?.join(':')].join('|');
}
