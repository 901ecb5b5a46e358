// The click map: the page's outline (or its newest screenshot, shown beneath and
// scaled to the canvas's width) and the clicks over it. The cells' density becomes a small image, one pixel per cell
// (columns × rows), which the canvas draws scaled up to the page's size with
// smoothing, so cells blend into a density map. Drawing costs the same for a thousand clicks as for a
// million: one pass over the cells and one scaled copy. After each drawing the
// canvas carries `data-rendered-ms` (from the answer's arrival to the end of the
// drawing) and `data-cells`.

import type { Heatmap } from '../api';
import { h } from '../dom';
import { formatCount } from '../format';
import { MAX_CANVAS_HEIGHT, backgroundOf, mapGeometry, paintCells, rampRGBA, rowsOf, type MapGeometry } from '../heatmap';

/** The most rows painted: a page 400,000 px tall in 10 px rows. */
const MAX_ROWS = 40_000;
/** Document pixels between two guide lines on the outline. */
const GUIDE_EVERY = 1000;

export class HeatmapCanvas {
  readonly el: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly shot: HTMLImageElement;
  private readonly cellImage: HTMLCanvasElement;
  private readonly ramp = rampRGBA();
  private map: Heatmap | null = null;
  private drawnWidth = 0;
  private readonly resize: ResizeObserver | null;

  constructor() {
    this.canvas = h('canvas', { class: 'heatmap-canvas', role: 'img', 'aria-label': 'Click map' });
    this.shot = h('img', { class: 'heatmap-shot', alt: '', hidden: true });
    this.cellImage = document.createElement('canvas');
    this.el = h('div', { class: 'heatmap-stage' }, this.shot, this.canvas);
    // Drawn again for a new width, as the chart is; not for every pixel of a drag.
    this.resize =
      typeof ResizeObserver === 'function'
        ? new ResizeObserver(() => {
            if (this.map && Math.abs(this.width() - this.drawnWidth) > 2) this.draw(this.map);
          })
        : null;
    this.resize?.observe(this.el);
  }

  dispose(): void {
    this.resize?.disconnect();
  }

  private width(): number {
    return Math.floor(this.el.clientWidth || 800);
  }

  /** Draws `map`; `arrivedAt` (performance.now() when its answer arrived) starts the clock. */
  draw(map: Heatmap, arrivedAt: number = performance.now()): void {
    this.map = map;
    const g = mapGeometry(map, this.width(), MAX_CANVAS_HEIGHT);
    this.drawnWidth = g.width;
    const canvas = this.canvas;
    canvas.width = g.width;
    canvas.height = g.height;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const background = backgroundOf(map);
    if (background) {
      if (this.shot.getAttribute('src') !== background) this.shot.src = background;
      this.shot.alt = `Screenshot of ${map.page}`;
      this.shot.hidden = false;
      canvas.dataset.background = background;
    } else {
      this.shot.hidden = true;
      this.shot.removeAttribute('src');
      delete canvas.dataset.background;
      this.outline(ctx, g);
    }

    const columns = Math.max(1, Math.floor(map.columns));
    const rows = Math.min(MAX_ROWS, rowsOf(map));
    const image = new ImageData(columns, rows);
    paintCells(image.data, columns, rows, map.cells, this.ramp);
    this.cellImage.width = columns;
    this.cellImage.height = rows;
    this.cellImage.getContext('2d')!.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(this.cellImage, 0, 0, columns, rows, 0, 0, g.width, rows * map.row_height * g.scaleY);
    // Reading a pixel makes the canvas carry out the drawing now, so the time is its real cost.
    ctx.getImageData(0, 0, 1, 1);

    canvas.dataset.renderedMs = (performance.now() - arrivedAt).toFixed(1);
    canvas.dataset.cells = String(map.cells.length);
    canvas.setAttribute(
      'aria-label',
      `Click map of ${map.page}: ${formatCount(map.clicks)} ${map.clicks === 1 ? 'click' : 'clicks'}. The most clicked elements are listed beside it.`,
    );
  }

  /** The page as a plain outline, with a guide line every 1,000 document pixels. */
  private outline(ctx: CanvasRenderingContext2D, g: MapGeometry): void {
    const style = getComputedStyle(this.el);
    const colour = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
    ctx.fillStyle = colour('--surface', '#fff');
    ctx.fillRect(0, 0, g.width, g.height);
    ctx.strokeStyle = colour('--line', '#d9dde3');
    ctx.fillStyle = colour('--muted', '#5b6472');
    ctx.lineWidth = 1;
    ctx.font = '11px system-ui, sans-serif';
    ctx.setLineDash([4, 4]);
    ctx.beginPath();
    const step = GUIDE_EVERY * g.scaleY;
    for (let i = 1; i * step < g.height; i++) {
      const y = Math.round(i * step) + 0.5;
      ctx.moveTo(0, y);
      ctx.lineTo(g.width, y);
      ctx.fillText(`${formatCount(i * GUIDE_EVERY)} px`, 6, y - 4);
    }
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.strokeRect(0.5, 0.5, g.width - 1, g.height - 1);
  }
}
