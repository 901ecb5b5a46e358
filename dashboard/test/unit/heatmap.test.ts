import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Heatmap } from '../../src/api';
import {
  backgroundOf,
  density,
  heatmapParams,
  heatmapViewFromQuery,
  heatmapViewToQuery,
  mapGeometry,
  mapSignature,
  paintCells,
  rampCss,
  rampIndex,
  rampRGBA,
  rowsOf,
  scrollBars,
} from '../../src/heatmap';
import { parseQuery, queryString } from '../../src/query';

const map = (over: Partial<Heatmap> = {}): Heatmap => ({
  page: '/property/*',
  kind: 'click',
  from: 0,
  to: 1,
  clicks: 828,
  columns: 100,
  row_height: 10,
  width: 1280,
  height: 3400,
  cells: [
    [12, 40, 517],
    [13, 40, 311],
  ],
  max: 517,
  elements: [],
  scroll: { views: 0, reached: [] },
  screenshot: null,
  ...over,
});

test("the heatmap page's state and request", () => {
  assert.deepEqual(heatmapViewFromQuery({}), { range: { preset: '7d' }, page: '', kind: 'click' });
  assert.equal(heatmapViewFromQuery({ kind: 'hover' }).kind, 'click');
  const view = { range: { preset: '30d' as const }, page: '/property/*', kind: 'rage_click' as const };
  assert.deepEqual(heatmapViewFromQuery(parseQuery(queryString(heatmapViewToQuery(view)))), view);
  assert.equal(queryString(heatmapViewToQuery({ ...view, kind: 'click' })), '?range=30d&page=%2Fproperty%2F*');
  assert.equal(queryString(heatmapParams(view)), '?range=30d&page=%2Fproperty%2F*&kind=rage_click');
});

test('the colour ramp runs from a faint blue to a strong red', () => {
  const ramp = rampRGBA(32);
  assert.equal(ramp.length, 32 * 4);
  assert.deepEqual([...ramp.slice(0, 4)], [40, 90, 255, 89]);
  assert.deepEqual([...ramp.slice(31 * 4)], [230, 30, 30, 224]);
  for (let i = 1; i < 32; i++) assert.ok(ramp[i * 4 + 3] >= ramp[(i - 1) * 4 + 3], 'more clicks, more opaque');
  assert.deepEqual(rampCss(2), ['rgba(40, 90, 255, 0.35)', 'rgba(230, 30, 30, 0.88)']);
});

test('colours go by the log of the count relative to the largest', () => {
  assert.equal(rampIndex(0, 100), -1);
  assert.equal(rampIndex(-3, 100), -1);
  assert.equal(rampIndex(100, 100, 32), 31);
  assert.equal(rampIndex(1_000_000, 1000, 32), 31);
  assert.equal(rampIndex(1, 1, 32), 31, 'a single click is the top when it is the most');
  assert.equal(rampIndex(5, 0, 32), 31, 'a max of 0 (none known) draws at the top');
  assert.equal(rampIndex(1, 100, 32), 4, 'log(2) / log(101) of the way');
  assert.equal(rampIndex(9, 99, 32), 16, 'log(10) / log(100): half way');
  // Log, not linear: a thousand clicks of a million is well up the ramp, one click still on it.
  assert.ok(rampIndex(1000, 1_000_000, 32) >= 15);
  assert.equal(rampIndex(1, 1_000_000, 32), 1);
});

test("a cell's clicks spread over its neighbours, and keep their whole count where they are", () => {
  const { field, peak, inside } = density(5, 5, [
    [2, 2, 10],
    [9, 9, 50],
    [0, 0, 0],
  ]);
  assert.equal(inside, 1, 'outside the grid, or no clicks: left out');
  assert.equal(peak, 10);
  assert.equal(field[2 * 5 + 2], 10);
  assert.ok(Math.abs(field[2 * 5 + 3] - 10 * Math.exp(-0.5)) < 1e-5, 'the next cell: σ = 1');
  assert.ok(Math.abs(field[3 * 5 + 3] - 10 * Math.exp(-1)) < 1e-5, 'diagonal');
  assert.ok(field[2 * 5 + 4] > 0, 'two cells away');
  assert.equal(field[0], 0, 'the far corner: below 5%, not spread');
  // Near the edge, what would fall outside is dropped.
  const edge = density(2, 1, [[0, 0, 4]]);
  assert.equal(edge.field[0], 4);
  assert.ok(Math.abs(edge.field[1] - 4 * Math.exp(-0.5)) < 1e-5);
  // Neighbours add up.
  const two = density(3, 1, [
    [0, 0, 1],
    [2, 0, 1],
  ]);
  assert.ok(Math.abs(two.field[1] - 2 * Math.exp(-0.5)) < 1e-5);
});

test('the density is painted one pixel per cell, in its colour; no clicks nearby stays transparent', () => {
  const ramp = rampRGBA(4);
  const pixels = new Uint8ClampedArray(7 * 1 * 4);
  const painted = paintCells(
    pixels,
    7,
    1,
    [
      [0, 0, 100],
      [-1, 0, 5],
    ],
    ramp,
  );
  assert.equal(painted, 1);
  assert.deepEqual([...pixels.slice(0, 4)], [...ramp.slice(12, 16)], 'the densest: the last colour');
  const step = rampIndex(100 * Math.exp(-2), 100, 4);
  assert.deepEqual([...pixels.slice(8, 12)], [...ramp.slice(step * 4, step * 4 + 4)], 'two cells away: its density');
  assert.deepEqual([...pixels.slice(12, 28)], new Array(16).fill(0), 'beyond the spread: transparent');
  // Nothing at all paints nothing.
  const empty = new Uint8ClampedArray(4 * 4);
  assert.equal(paintCells(empty, 2, 2, [], ramp), 0);
  assert.ok(empty.every((b) => b === 0));
});

test('a million clicks in 34,000 cells paint in well under the frame budget', () => {
  const cells: Array<[number, number, number]> = [];
  let total = 0;
  for (let row = 0; row < 340; row++) {
    for (let column = 0; column < 100; column++) {
      const count = 1 + ((row * 7919 + column * 104729) % 59);
      cells.push([column, row, count]);
      total += count;
    }
  }
  assert.ok(total > 1_000_000, `${total}`);
  const pixels = new Uint8ClampedArray(100 * 340 * 4);
  const started = performance.now();
  assert.equal(paintCells(pixels, 100, 340, cells), 34_000);
  const ms = performance.now() - started;
  assert.ok(ms < 250, `${ms} ms`);
});

test('the rows cover the page and every cell', () => {
  assert.equal(rowsOf(map()), 340);
  assert.equal(rowsOf(map({ height: 3405 })), 341);
  assert.equal(rowsOf(map({ cells: [[1, 500, 3]] })), 501);
  assert.equal(rowsOf(map({ height: 0, row_height: 0, cells: [] })), 1);
});

test("the outline is the page scaled to the panel's width", () => {
  assert.deepEqual(mapGeometry(map(), 640), { width: 640, height: 1700, scaleX: 0.5, scaleY: 0.5 });
  // Too tall to draw whole: squeezed down to the tallest canvas, never wider.
  const tall = mapGeometry(map({ height: 100_000 }), 640, 16_000);
  assert.equal(tall.height, 16_000);
  assert.equal(tall.scaleX, 0.5);
  assert.equal(tall.scaleY, 0.16);
  // Without a known size: the panel's width, 4:3.
  assert.deepEqual(mapGeometry(map({ width: 0, height: 0 }), 800), { width: 800, height: 600, scaleX: 1, scaleY: 1 });
});

test('scroll depth as shares of the views, shallowest first', () => {
  assert.deepEqual(
    scrollBars({
      views: 5000,
      reached: [
        { depth: 20, views: 4600 },
        { depth: 10, views: 5000 },
        { depth: 100, views: 800 },
      ],
    }),
    [
      { depth: 10, views: 5000, share: 1 },
      { depth: 20, views: 4600, share: 0.92 },
      { depth: 100, views: 800, share: 0.16 },
    ],
  );
  assert.deepEqual(scrollBars({ views: 0, reached: [{ depth: 10, views: 0 }] }), [{ depth: 10, views: 0, share: 0 }]);
});

test('a map is drawn again only when its clicks changed', () => {
  assert.equal(mapSignature(map()), mapSignature(map()));
  assert.notEqual(mapSignature(map()), mapSignature(map({ clicks: 829, cells: [[12, 40, 518], [13, 40, 311]], max: 518 })));
  assert.notEqual(mapSignature(map()), mapSignature(map({ kind: 'rage_click' })));
  // A new screenshot of the page is drawn too.
  assert.notEqual(mapSignature(map()), mapSignature(map({ background_url: '/api/projects/1/screenshots/3/image' })));
});

test("the page's newest screenshot goes beneath the clicks", () => {
  assert.equal(backgroundOf({ screenshot: null, background_url: '/api/projects/1/screenshots/3/image' }), '/api/projects/1/screenshots/3/image');
  assert.equal(backgroundOf({ screenshot: '/old.png', background_url: '/api/projects/1/screenshots/3/image' }), '/api/projects/1/screenshots/3/image');
  assert.equal(backgroundOf({ screenshot: '/old.png', background_url: null }), '/old.png');
  assert.equal(backgroundOf({ screenshot: null }), null);
  assert.equal(backgroundOf({ screenshot: null, background_url: '' }), null);
});
