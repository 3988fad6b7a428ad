// A tiny anti-aliased rasteriser for the sample dataset: filled shapes (circles, ellipses, polygons, thick
// lines) drawn into an 8-bit RGB buffer by supersampling each pixel. Pixel (x, y) covers the square
// [x, x+1) x [y, y+1) in continuous coordinates. Pure: must not import sharp, electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.

export type Rgb = readonly [number, number, number];
export type Point = readonly [number, number];

export interface Canvas {
  width: number;
  height: number;
  /** Interleaved RGB, rows top to bottom. */
  data: Uint8Array;
}

/** A filled region: a point test and a bounding rectangle [x0, y0, x1, y1] in continuous coordinates. */
export interface Shape {
  contains(x: number, y: number): boolean;
  bounds: readonly [number, number, number, number];
}

export function createCanvas(width: number, height: number): Canvas {
  return { width, height, data: new Uint8Array(width * height * 3) };
}

export function circle(cx: number, cy: number, r: number): Shape {
  return {
    contains: (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r,
    bounds: [cx - r, cy - r, cx + r, cy + r],
  };
}

/** An ellipse with radii rx, ry rotated by `angle` radians. */
export function ellipse(cx: number, cy: number, rx: number, ry: number, angle: number): Shape {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const r = Math.max(rx, ry);
  return {
    contains: (x, y) => {
      const dx = x - cx;
      const dy = y - cy;
      const u = dx * cos + dy * sin;
      const v = -dx * sin + dy * cos;
      return (u / rx) ** 2 + (v / ry) ** 2 <= 1;
    },
    bounds: [cx - r, cy - r, cx + r, cy + r],
  };
}

/** A polygon (convex or not), filled with the even-odd rule. */
export function polygon(points: readonly Point[]): Shape {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  return {
    contains: (x, y) => {
      let inside = false;
      for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
        const [xi, yi] = points[i];
        const [xj, yj] = points[j];
        if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
      }
      return inside;
    },
    bounds: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)],
  };
}

/** A straight stroke of the given width from (x0, y0) to (x1, y1). */
export function thickLine(x0: number, y0: number, x1: number, y1: number, width: number): Shape {
  const length = Math.hypot(x1 - x0, y1 - y0) || 1;
  const nx = (-(y1 - y0) / length) * (width / 2);
  const ny = ((x1 - x0) / length) * (width / 2);
  return polygon([
    [x0 + nx, y0 + ny],
    [x1 + nx, y1 + ny],
    [x1 - nx, y1 - ny],
    [x0 - nx, y0 - ny],
  ]);
}

/** Regular polygon / star vertices around (cx, cy): `radii` cycles per vertex (one radius: a regular polygon). */
export function radialPoints(
  cx: number,
  cy: number,
  count: number,
  radii: readonly number[],
  angle: number,
): Point[] {
  return Array.from({ length: count }, (_, i) => {
    const a = angle + (2 * Math.PI * i) / count;
    const r = radii[i % radii.length];
    return [cx + r * Math.cos(a), cy + r * Math.sin(a)] as const;
  });
}

/**
 * Fills `shape` with `colour`, blending by coverage (samples x samples points per pixel). When `coverage`
 * is given (one value per pixel), the coverage of this shape is written into it. Returns the number of
 * pixels touched.
 */
export function fill(
  canvas: Canvas,
  shape: Shape,
  colour: Rgb,
  options: { samples?: number; opacity?: number; coverage?: Float32Array } = {},
): number {
  const samples = options.samples ?? 4;
  const opacity = options.opacity ?? 1;
  const [bx0, by0, bx1, by1] = shape.bounds;
  const xStart = Math.max(0, Math.floor(bx0));
  const yStart = Math.max(0, Math.floor(by0));
  const xEnd = Math.min(canvas.width - 1, Math.floor(bx1));
  const yEnd = Math.min(canvas.height - 1, Math.floor(by1));
  let touched = 0;
  for (let y = yStart; y <= yEnd; y++) {
    for (let x = xStart; x <= xEnd; x++) {
      let inside = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          if (shape.contains(x + (sx + 0.5) / samples, y + (sy + 0.5) / samples)) inside++;
        }
      }
      if (inside === 0) continue;
      touched++;
      const a = (inside / (samples * samples)) * opacity;
      const i = (y * canvas.width + x) * 3;
      for (let c = 0; c < 3; c++)
        canvas.data[i + c] = Math.round(canvas.data[i + c] * (1 - a) + colour[c] * a);
      if (options.coverage)
        options.coverage[y * canvas.width + x] = Math.max(options.coverage[y * canvas.width + x], a);
    }
  }
  return touched;
}

/** HSV (h in [0, 1), s and v in [0, 1]) to 8-bit RGB. */
export function hsvToRgb(h: number, s: number, v: number): Rgb {
  const i = Math.floor(h * 6) % 6;
  const f = h * 6 - Math.floor(h * 6);
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const [r, g, b] = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ][i];
  return [Math.round(r * 255), Math.round(g * 255), Math.round(b * 255)];
}

/** ITU-R 601 luma of an 8-bit colour. */
export function luma([r, g, b]: Rgb): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}
