// Attention maps for display: each map stretched to [0, 1] between its own lowest and highest weight
// (so the colours show where it looks most, even when it is nearly flat; `peakRatio` tells how flat
// it really is), up-sampled bilinearly with
// half-pixel centres (as PyTorch align_corners=False, tfjs halfPixelCenters and ONNX half_pixel do), the
// three levels combined by their mean at the finest level's size, and coloured with an "inferno"-like
// palette (dark = little attention, bright yellow = most) into RGBA pixels for a canvas.
import type { AttentionMap } from '../../../main/api/evaluation-schemas.js';

export interface Grid {
  width: number;
  height: number;
  values: Float32Array;
}

export function normalised(map: Pick<AttentionMap, 'width' | 'height' | 'values'>): Grid {
  let max = -Infinity;
  let min = Infinity;
  for (const v of map.values) {
    if (v > max) max = v;
    if (v < min) min = v;
  }
  const values = new Float32Array(map.values.length);
  const range = max - min;
  if (range > 0) for (let i = 0; i < values.length; i++) values[i] = (map.values[i] - min) / range;
  return { width: map.width, height: map.height, values };
}

/** The highest weight over the mean weight: 1 for a flat map, the number of positions for a single peak. */
export function peakRatio(map: Pick<AttentionMap, 'values'>): number {
  let max = 0;
  let sum = 0;
  for (const v of map.values) {
    if (v > max) max = v;
    sum += v;
  }
  return sum > 0 ? (max * map.values.length) / sum : 1;
}

/** Bilinear resize with half-pixel centres and edge clamping. */
export function resize(grid: Grid, width: number, height: number): Grid {
  const out = new Float32Array(width * height);
  const sx = grid.width / width;
  const sy = grid.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), grid.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, grid.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), grid.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, grid.width - 1);
      const wx = fx - x0;
      const top = grid.values[y0 * grid.width + x0] * (1 - wx) + grid.values[y0 * grid.width + x1] * wx;
      const bottom = grid.values[y1 * grid.width + x0] * (1 - wx) + grid.values[y1 * grid.width + x1] * wx;
      out[y * width + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return { width, height, values: out };
}

/** Mean of the stretched maps at the size of the first (finest) one, stretched again to [0, 1]. */
export function combine(maps: readonly AttentionMap[]): Grid | null {
  if (maps.length === 0) return null;
  const { width, height } = maps[0];
  const sum = new Float32Array(width * height);
  for (const map of maps) {
    const g = resize(normalised(map), width, height);
    for (let i = 0; i < sum.length; i++) sum[i] += g.values[i] / maps.length;
  }
  return normalised({ width, height, values: Array.from(sum) });
}

// Inferno, sampled at 9 stops (matplotlib's, rounded).
const STOPS: [number, number, number][] = [
  [0, 0, 4],
  [31, 12, 72],
  [85, 15, 109],
  [136, 34, 106],
  [186, 54, 85],
  [227, 89, 51],
  [249, 140, 10],
  [249, 201, 50],
  [252, 255, 164],
];

export function colour(t: number): [number, number, number] {
  const x = Math.min(Math.max(t, 0), 1) * (STOPS.length - 1);
  const i = Math.min(Math.floor(x), STOPS.length - 2);
  const f = x - i;
  const a = STOPS[i];
  const b = STOPS[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

export function toRgba(grid: Grid): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(new ArrayBuffer(grid.width * grid.height * 4));
  for (let i = 0; i < grid.values.length; i++) {
    const [r, g, b] = colour(grid.values[i]);
    out[i * 4] = r;
    out[i * 4 + 1] = g;
    out[i * 4 + 2] = b;
    out[i * 4 + 3] = 255;
  }
  return out;
}

export const PALETTE_CSS = `linear-gradient(to right, ${STOPS.map((c) => `rgb(${c.join(',')})`).join(', ')})`;
