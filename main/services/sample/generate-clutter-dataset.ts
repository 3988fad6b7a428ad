// Writes a second dataset with boxes, unlike the "shapes" sample, for measuring localisation: landscape
// pictures (96 x 64 by default, so the app's centre crop moves every box) holding ONE small object (about
// a tenth of the height across) of one of four classes (ring, tee, bowtie, bar-pair) among 10-18 small
// distractors (discs, dashes, dots, slim ellipses: never class objects) on a noisy gradient. The object
// always lies inside the centre square that training keeps. Boxes are written in YOLO format in labels/
// (labels/<split>/<class>/<name>.txt, "class cx cy w h" as fractions) with the names in classes.txt, so a
// run over it exercises the box readers as a user's dataset would. Seeded: the same options give the same
// files; every file is written atomically. Must not import electron or anything from main/electron,
// main/backend, main/server, main/cli or renderer.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { createRandom, type Random } from '../../../models/core/random.js';
import { deriveSeed } from '../datasets/derive-seed.js';
import { SPLITS, type Split } from '../datasets/dataset-types.js';
import { writeFileAtomic } from '../storage/atomic-write.js';
import type { ObjectBox } from './pointing-game.js';
import {
  circle,
  createCanvas,
  ellipse,
  fill,
  hsvToRgb,
  luma,
  polygon,
  thickLine,
  type Canvas,
  type Point,
  type Rgb,
  type Shape,
} from './rasterise.js';

export const CLUTTER_CLASSES = ['ring', 'tee', 'bowtie', 'bars'] as const;
export type ClutterClass = (typeof CLUTTER_CLASSES)[number];

export interface ClutterDatasetOptions {
  width?: number;
  height?: number;
  /** Images per class in each split (default train 300, val 40, test 60). */
  counts?: Partial<Record<Split, number>>;
  seed?: number;
}

export interface ClutterImage {
  rgb: Uint8Array;
  width: number;
  height: number;
  box: ObjectBox;
}

function union(shapes: readonly Shape[]): Shape {
  return {
    contains: (x, y) => shapes.some((s) => s.contains(x, y)),
    bounds: [
      Math.min(...shapes.map((s) => s.bounds[0])),
      Math.min(...shapes.map((s) => s.bounds[1])),
      Math.max(...shapes.map((s) => s.bounds[2])),
      Math.max(...shapes.map((s) => s.bounds[3])),
    ],
  };
}

function rotated(points: readonly Point[], cx: number, cy: number, angle: number): Point[] {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return points.map(([x, y]) => [cx + x * c - y * s, cy + x * s + y * c] as const);
}

/** The object of a class, radius r around (cx, cy), turned by `angle`. */
function clutterObject(label: ClutterClass, cx: number, cy: number, r: number, angle: number): Shape {
  const w = r * 0.3;
  switch (label) {
    case 'ring': {
      const outer = circle(cx, cy, r);
      const inner = circle(cx, cy, r * 0.55);
      return { contains: (x, y) => outer.contains(x, y) && !inner.contains(x, y), bounds: outer.bounds };
    }
    case 'tee':
      return union([
        polygon(
          rotated(
            [
              [-r, -r],
              [r, -r],
              [r, -r + 2 * w],
              [-r, -r + 2 * w],
            ],
            cx,
            cy,
            angle,
          ),
        ),
        polygon(
          rotated(
            [
              [-w, -r],
              [w, -r],
              [w, r],
              [-w, r],
            ],
            cx,
            cy,
            angle,
          ),
        ),
      ]);
    case 'bowtie':
      return union([
        polygon(
          rotated(
            [
              [-r, -r],
              [0, 0],
              [-r, r],
            ],
            cx,
            cy,
            angle,
          ),
        ),
        polygon(
          rotated(
            [
              [r, -r],
              [0, 0],
              [r, r],
            ],
            cx,
            cy,
            angle,
          ),
        ),
      ]);
    case 'bars':
      return union([
        polygon(
          rotated(
            [
              [-r, -r],
              [-r + 2 * w, -r],
              [-r + 2 * w, r],
              [-r, r],
            ],
            cx,
            cy,
            angle,
          ),
        ),
        polygon(
          rotated(
            [
              [r - 2 * w, -r],
              [r, -r],
              [r, r],
              [r - 2 * w, r],
            ],
            cx,
            cy,
            angle,
          ),
        ),
      ]);
  }
}

function colour(random: Random): Rgb {
  return hsvToRgb(random.next(), 0.4 + 0.6 * random.next(), 0.35 + 0.65 * random.next());
}

/** Renders one picture; the same (label, size, seed) always gives the same picture. */
export function renderClutterImage(
  label: ClutterClass,
  width: number,
  height: number,
  seed: number,
): ClutterImage {
  const random = createRandom(seed);
  const canvas: Canvas = createCanvas(width, height);
  const [a, b] = [colour(random), colour(random)].map((c) => c.map((v) => v * 0.6) as unknown as Rgb);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const t = (x + y) / (width + height);
      canvas.data.set(
        [0, 1, 2].map((c) => Math.round(a[c] + (b[c] - a[c]) * t)),
        (y * width + x) * 3,
      );
    }
  const side = Math.min(width, height);
  const distractors = 10 + random.int(9);
  for (let i = 0; i < distractors; i++) {
    const x = random.next() * width;
    const y = random.next() * height;
    const r = side * (0.03 + 0.05 * random.next());
    const kind = random.next();
    const shape =
      kind < 0.3
        ? circle(x, y, r)
        : kind < 0.6
          ? thickLine(
              x,
              y,
              x + 2 * r * Math.cos(kind * 20),
              y + 2 * r * Math.sin(kind * 20),
              1 + random.next(),
            )
          : kind < 0.8
            ? ellipse(x, y, r * 1.5, r / 3, random.next() * Math.PI)
            : circle(x, y, 1 + random.next());
    fill(canvas, shape, colour(random), { opacity: 0.8 + 0.2 * random.next() });
  }
  const r = side * (0.07 + 0.05 * random.next());
  const left = (width - side) / 2;
  const top = (height - side) / 2;
  const cx = left + r + 1 + random.next() * (side - 2 * r - 2);
  const cy = top + r + 1 + random.next() * (side - 2 * r - 2);
  let objectColour = colour(random);
  for (let k = 0; k < 20 && Math.abs(luma(objectColour) - luma(a)) < 50; k++) objectColour = colour(random);
  const coverage = new Float32Array(width * height);
  fill(canvas, clutterObject(label, cx, cy, r, random.next() * 2 * Math.PI), objectColour, { coverage });
  for (let i = 0; i < canvas.data.length; i++)
    canvas.data[i] = Math.min(255, Math.max(0, Math.round(canvas.data[i] + 8 * random.normal())));
  let [x0, y0, x1, y1] = [width, height, 0, 0];
  coverage.forEach((c, i) => {
    if (c <= 0) return;
    const x = i % width;
    const y = Math.floor(i / width);
    [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x + 1), Math.max(y1, y + 1)];
  });
  return { rgb: canvas.data, width, height, box: [x0, y0, x1, y1] };
}

/** Writes the dataset into `outDir` (see the module comment); returns the number of pictures. */
export async function generateClutterDataset(
  outDir: string,
  options: ClutterDatasetOptions = {},
): Promise<number> {
  const width = options.width ?? 96;
  const height = options.height ?? 64;
  const seed = options.seed ?? 0;
  const counts: Record<Split, number> = { train: 300, val: 40, test: 60, ...options.counts };
  await mkdir(outDir, { recursive: true });
  await writeFileAtomic(join(outDir, 'classes.txt'), `${CLUTTER_CLASSES.join('\n')}\n`);
  let written = 0;
  for (const split of SPLITS)
    for (const [classIndex, label] of CLUTTER_CLASSES.entries()) {
      await mkdir(join(outDir, split, label), { recursive: true });
      await mkdir(join(outDir, 'labels', split, label), { recursive: true });
      for (let i = 0; i < counts[split]; i++) {
        const name = `${split}/${label}/${String(i).padStart(4, '0')}`;
        const image = renderClutterImage(label, width, height, deriveSeed(seed, 'clutter', split, label, i));
        const png = await sharp(image.rgb, { raw: { width, height, channels: 3 } })
          .png()
          .toBuffer();
        await writeFileAtomic(join(outDir, `${name}.png`), png, { durable: false });
        const [x0, y0, x1, y1] = image.box;
        const yolo = [(x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height];
        await writeFileAtomic(
          join(outDir, 'labels', `${name}.txt`),
          `${classIndex} ${yolo.map((v) => v.toFixed(6)).join(' ')}\n`,
          { durable: false },
        );
        written++;
      }
    }
  return written;
}
