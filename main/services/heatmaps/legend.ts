// The colour legend drawn beside an overlay: a vertical bar of the colour map (1 at the top, 0 at the
// bottom) with the labels 1, 0.5 and 0 in a built-in 3 x 5 pixel font, so no font or text renderer
// (fontconfig, librsvg) is needed and the legend looks the same on every machine. Pure pixel code on
// interleaved RGB; must not import sharp, electron or anything from main/electron, main/backend, main/server, main/cli
// or renderer.

import type { ColormapName } from './colormap.js';
import { colormapLut } from './colormap.js';

/** 3 x 5 glyphs, one string of 15 '#'/'.' per character, row by row. */
const GLYPHS: Record<string, string> = {
  '0': '####.##.##.####',
  '1': '.#.##..#..#.###',
  '2': '###..#####..###',
  '3': '###..####..####',
  '4': '#.##.####..#..#',
  '5': '####..###..####',
  '6': '####..####.####',
  '7': '###..#..#..#..#',
  '8': '####.#####.####',
  '9': '####.####..####',
  '.': '.............#.',
};

const BACKGROUND = 255;
const INK = 34;

/** Integer pixel scale of the legend for a picture of this height (1 up to 96 px, 2 up to 192, ...). */
export function legendScale(height: number): number {
  return Math.max(1, Math.floor(height / 96));
}

/** Width in pixels of the legend strip added to the right of a picture of this height. */
export function legendWidth(height: number): number {
  return 22 * legendScale(height);
}

function text(width: number, s: number): number {
  return width * 4 * s - s;
}

function drawText(
  out: Uint8Array,
  stride: number,
  height: number,
  x0: number,
  yCentre: number,
  label: string,
  s: number,
): void {
  const top = Math.round(yCentre - (5 * s) / 2);
  for (let k = 0; k < label.length; k++) {
    const glyph = GLYPHS[label[k]];
    for (let gy = 0; gy < 5; gy++)
      for (let gx = 0; gx < 3; gx++) {
        if (glyph[gy * 3 + gx] !== '#') continue;
        for (let dy = 0; dy < s; dy++)
          for (let dx = 0; dx < s; dx++) {
            const x = x0 + k * 4 * s + gx * s + dx;
            const y = top + gy * s + dy;
            if (y < 0 || y >= height || x < 0 || x >= stride) continue;
            const i = (y * stride + x) * 3;
            out[i] = out[i + 1] = out[i + 2] = INK;
          }
      }
  }
}

/**
 * Draws the legend into columns [x0, x0 + legendWidth(height)) of `out` (interleaved RGB, `stride` pixels
 * wide, `height` rows).
 */
export function drawLegend(
  out: Uint8Array,
  stride: number,
  height: number,
  x0: number,
  colormap: ColormapName,
): void {
  const s = legendScale(height);
  const width = legendWidth(height);
  for (let y = 0; y < height; y++) out.fill(BACKGROUND, (y * stride + x0) * 3, (y * stride + x0 + width) * 3);
  const lut = colormapLut(colormap);
  const pad = 4 * s; // room for half a label above the top and below the bottom of the bar
  const barTop = pad;
  const barBottom = height - 1 - pad; // inclusive
  const barX = x0 + 3 * s;
  const barW = 4 * s;
  if (barBottom - barTop < 2) return; // a picture too small for a legend: leave the strip blank
  for (let y = barTop - 1; y <= barBottom + 1; y++)
    for (let x = barX - 1; x <= barX + barW; x++) {
      const i = (y * stride + x) * 3;
      const inside = y >= barTop && y <= barBottom && x >= barX && x < barX + barW;
      if (inside) {
        const t = (barBottom - y) / (barBottom - barTop);
        const e = Math.round(t * 255) * 3;
        out[i] = lut[e];
        out[i + 1] = lut[e + 1];
        out[i + 2] = lut[e + 2];
      } else out[i] = out[i + 1] = out[i + 2] = INK; // a 1-pixel frame
    }
  const labelX = barX + barW + 2 * s;
  if (text(3, s) > width - (labelX - x0)) return;
  drawText(out, stride, height, labelX, barTop, '1', s);
  if (barBottom - barTop >= 16 * s) drawText(out, stride, height, labelX, (barTop + barBottom) / 2, '0.5', s);
  drawText(out, stride, height, labelX, barBottom, '0', s);
}
