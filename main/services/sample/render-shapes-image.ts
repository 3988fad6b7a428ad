// Draws one picture of the "shapes" sample dataset: a coloured object of one class (circle, square,
// triangle, cross or star) at a random place, size and rotation on a cluttered background (a colour
// gradient, distractor strokes, thin ellipses and dots, then sensor-like noise). Distractors are never
// class shapes, and objects and distractors take their colours from the same distribution, so neither
// colour nor clutter gives the class away: only the object's form does, and only where the object is.
// The object's exact pixel box comes back with the picture. Pure and seeded: must not import sharp,
// electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
import { createRandom, type Random } from '../../../models/core/random.js';
import type { ObjectBox } from './pointing-game.js';
import {
  circle,
  createCanvas,
  ellipse,
  fill,
  hsvToRgb,
  luma,
  polygon,
  radialPoints,
  thickLine,
  type Canvas,
  type Point,
  type Rgb,
  type Shape,
} from './rasterise.js';

export const SHAPE_CLASSES = ['circle', 'square', 'triangle', 'cross', 'star'] as const;
export type ShapeClass = (typeof SHAPE_CLASSES)[number];
export const DEFAULT_SHAPE_CLASSES: readonly ShapeClass[] = ['circle', 'square', 'triangle', 'cross'];

export interface ShapesImage {
  label: ShapeClass;
  size: number;
  /** Interleaved 8-bit RGB, size x size. */
  rgb: Uint8Array;
  /** Tight box of the object's pixels: [x0, y0, x1, y1], x1 and y1 exclusive (continuous pixel edges). */
  box: ObjectBox;
  /** 1 where the object covers any part of the pixel, else 0 (size x size). */
  objectMask: Uint8Array;
}

export interface RenderOptions {
  /** Draw everything except the object (same random stream: the same background, clutter and noise). */
  withoutObject?: boolean;
}

/** Renders one picture; the same (label, size, seed) always gives the same picture. */
export function renderShapesImage(
  label: ShapeClass,
  size: number,
  seed: number,
  options: RenderOptions = {},
): ShapesImage {
  if (!SHAPE_CLASSES.includes(label)) {
    throw new RangeError(`Unknown shape "${label}". Should be one of: ${SHAPE_CLASSES.join(', ')}`);
  }
  if (!Number.isInteger(size) || size < 16)
    throw new RangeError(`Expected size to be an integer of at least 16, got ${size}`);
  const random = createRandom(seed);
  const canvas = createCanvas(size, size);
  const background = drawBackground(canvas, random);
  drawDistractors(canvas, random);

  // The object: circumradius 16-30 % of the size, fully inside the picture, any rotation.
  const radius = size * (0.16 + 0.14 * random.next());
  const cx = radius + 1 + random.next() * (size - 2 * radius - 2);
  const cy = radius + 1 + random.next() * (size - 2 * radius - 2);
  const angle = random.next() * 2 * Math.PI;
  const colour = contrastingColour(background(cx, cy), random);
  const coverage = new Float32Array(size * size);
  if (!options.withoutObject) fill(canvas, objectShape(label, cx, cy, radius, angle), colour, { coverage });

  addNoise(canvas, 6 + 12 * random.next(), random);
  const objectMask = new Uint8Array(size * size);
  let x0 = size;
  let y0 = size;
  let x1 = 0;
  let y1 = 0;
  coverage.forEach((c, i) => {
    if (c <= 0) return;
    objectMask[i] = 1;
    const x = i % size;
    const y = Math.floor(i / size);
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x + 1);
    y1 = Math.max(y1, y + 1);
  });
  const box: ObjectBox = options.withoutObject ? [0, 0, 0, 0] : [x0, y0, x1, y1];
  return { label, size, rgb: canvas.data, box, objectMask };
}

/** The outline of a class object with circumradius r. */
export function objectShape(label: ShapeClass, cx: number, cy: number, r: number, angle: number): Shape {
  switch (label) {
    case 'circle':
      return circle(cx, cy, r * 0.85);
    case 'square':
      return polygon(radialPoints(cx, cy, 4, [r], angle));
    case 'triangle':
      return polygon(radialPoints(cx, cy, 3, [r], angle));
    case 'star':
      return polygon(radialPoints(cx, cy, 10, [r, r * 0.45], angle));
    case 'cross': {
      const w = r * 0.32;
      const local: Point[] = [
        [-w, -r],
        [w, -r],
        [w, -w],
        [r, -w],
        [r, w],
        [w, w],
        [w, r],
        [-w, r],
        [-w, w],
        [-r, w],
        [-r, -w],
        [-w, -w],
      ];
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      return polygon(local.map(([x, y]) => [cx + x * cos - y * sin, cy + x * sin + y * cos] as const));
    }
  }
}

/** A colour from the shared distribution: any hue, fairly saturated, not too dark. */
function randomColour(random: Random): Rgb {
  return hsvToRgb(random.next(), 0.4 + 0.6 * random.next(), 0.3 + 0.7 * random.next());
}

function contrastingColour(background: Rgb, random: Random): Rgb {
  for (let attempt = 0; attempt < 30; attempt++) {
    const colour = randomColour(random);
    if (Math.abs(luma(colour) - luma(background)) >= 60) return colour;
  }
  // Rare: fall back to a bright or dark version of a random hue, whichever stands out.
  return hsvToRgb(random.next(), 0.8, luma(background) < 128 ? 1 : 0.15);
}

/** A two-colour linear gradient in a random direction; returns the colour at any point. */
function drawBackground(canvas: Canvas, random: Random): (x: number, y: number) => Rgb {
  const muted = (): Rgb => hsvToRgb(random.next(), 0.6 * random.next(), 0.25 + 0.6 * random.next());
  const from = muted();
  const to = muted();
  const direction = random.next() * 2 * Math.PI;
  const dx = Math.cos(direction);
  const dy = Math.sin(direction);
  const { width, height } = canvas;
  const colourAt = (x: number, y: number): Rgb => {
    const t = Math.min(1, Math.max(0, 0.5 + ((x - width / 2) * dx + (y - height / 2) * dy) / width));
    return [0, 1, 2].map((c) => Math.round(from[c] + (to[c] - from[c]) * t)) as unknown as Rgb;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) canvas.data.set(colourAt(x + 0.5, y + 0.5), (y * width + x) * 3);
  }
  return colourAt;
}

/** 3-7 distractors: straight strokes, thin ellipses (aspect 3-7, never circles) and clusters of tiny dots. */
function drawDistractors(canvas: Canvas, random: Random): void {
  const size = canvas.width;
  const count = 3 + random.int(5);
  for (let i = 0; i < count; i++) {
    const colour = randomColour(random);
    const opacity = 0.7 + 0.3 * random.next();
    const kind = random.next();
    if (kind < 0.45) {
      const length = size * (0.3 + 0.6 * random.next());
      const a = random.next() * 2 * Math.PI;
      const x0 = random.next() * size;
      const y0 = random.next() * size;
      const width = 1 + 1.5 * random.next();
      fill(canvas, thickLine(x0, y0, x0 + length * Math.cos(a), y0 + length * Math.sin(a), width), colour, {
        opacity,
      });
    } else if (kind < 0.8) {
      const rx = size * (0.08 + 0.12 * random.next());
      const ry = rx / (3 + 4 * random.next());
      fill(
        canvas,
        ellipse(random.next() * size, random.next() * size, rx, ry, random.next() * Math.PI),
        colour,
        { opacity },
      );
    } else {
      const cx = random.next() * size;
      const cy = random.next() * size;
      const dots = 3 + random.int(4);
      for (let d = 0; d < dots; d++) {
        const r = 0.8 + 0.8 * random.next();
        fill(canvas, circle(cx + (random.next() - 0.5) * 10, cy + (random.next() - 0.5) * 10, r), colour, {
          opacity,
        });
      }
    }
  }
}

/** Independent Gaussian noise per value, standard deviation `sigma` (in 0..255 units). */
function addNoise(canvas: Canvas, sigma: number, random: Random): void {
  const data = canvas.data;
  for (let i = 0; i < data.length; i++) {
    data[i] = Math.min(255, Math.max(0, Math.round(data[i] + sigma * random.normal())));
  }
}
