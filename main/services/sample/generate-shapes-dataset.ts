// Writes the app's built-in demo dataset "shapes": PNG pictures in train/ val/ test/ class folders, a
// boxes.json at the root (relative path -> the object's [x0, y0, x1, y1] box in pixels, x1/y1 exclusive)
// for the pointing game, and shapes.json describing how it was made. Seeded: the same options give the
// same files. Every file is written atomically. Must not import electron or anything from main/electron,
// main/backend, main/server, main/cli or renderer.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { deriveSeed } from '../datasets/derive-seed.js';
import type { Split } from '../datasets/dataset-types.js';
import { writeFileAtomic } from '../storage/atomic-write.js';
import type { ObjectBox } from './pointing-game.js';
import {
  DEFAULT_SHAPE_CLASSES,
  SHAPE_CLASSES,
  renderShapesImage,
  type ShapeClass,
} from './render-shapes-image.js';

export const BOXES_FILE = 'boxes.json';
export const MANIFEST_FILE = 'shapes.json';

/**
 * Images per class and split. A narrow model trained from scratch needs about this many: with 160 per
 * class, PyTorch and this engine alike stayed near chance for most seeds after 10 epochs; with 400 per
 * class, Adam reaches over 90 % in about 5 epochs (measured, see bench/RESULTS.md).
 */
export const DEFAULT_SHAPES_COUNTS: Readonly<Record<Split, number>> = { train: 400, val: 50, test: 50 };

export interface ShapesDatasetOptions {
  /** Number of classes (2-5, taken in the order circle, square, triangle, cross, star) or their names. Default 4. */
  classes?: number | readonly ShapeClass[];
  /** Picture width and height in pixels (default 64). */
  size?: number;
  /** Images per class in each split (default 160 / 40 / 40). */
  counts?: Partial<Record<Split, number>>;
  /** Default 0. */
  seed?: number;
  /** PNGs encoded and written at once (default 4). */
  concurrency?: number;
  onProgress?: (written: number, total: number) => void;
}

export interface ShapesDatasetSummary {
  root: string;
  classes: ShapeClass[];
  size: number;
  counts: Record<Split, number>;
  seed: number;
  images: number;
  boxesFile: string;
}

/** Generates the dataset into `outDir` (created if needed; files of the same names are replaced). */
export async function generateShapesDataset(
  outDir: string,
  options: ShapesDatasetOptions = {},
): Promise<ShapesDatasetSummary> {
  const classes = resolveClasses(options.classes ?? DEFAULT_SHAPE_CLASSES.length);
  const size = options.size ?? 64;
  const counts = { ...DEFAULT_SHAPES_COUNTS, ...options.counts };
  const seed = options.seed ?? 0;
  for (const [split, n] of Object.entries(counts)) {
    if (!Number.isInteger(n) || n < 0)
      throw new RangeError(`Expected a whole number of ${split} images, got ${n}`);
  }
  const jobs: { split: Split; label: ShapeClass; index: number; relativePath: string }[] = [];
  for (const split of ['train', 'val', 'test'] as const) {
    for (const label of classes) {
      await mkdir(join(outDir, split, label), { recursive: true });
      for (let index = 0; index < counts[split]; index++) {
        jobs.push({
          split,
          label,
          index,
          relativePath: `${split}/${label}/${String(index).padStart(4, '0')}.png`,
        });
      }
    }
  }
  const boxes: Record<string, ObjectBox> = {};
  let written = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++];
      const image = renderShapesImage(
        job.label,
        size,
        deriveSeed(seed, 'shapes', job.split, job.label, job.index),
      );
      const png = await sharp(image.rgb, { raw: { width: size, height: size, channels: 3 } })
        .png({ compressionLevel: 6 })
        .toBuffer();
      await writeFileAtomic(join(outDir, job.relativePath), png, { durable: false });
      boxes[job.relativePath] = image.box;
      options.onProgress?.(++written, jobs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  // One line per image, in file order: readable, and diffs well.
  const lines = jobs.map(
    (job) => `  ${JSON.stringify(job.relativePath)}: ${JSON.stringify(boxes[job.relativePath])}`,
  );
  await writeFileAtomic(join(outDir, BOXES_FILE), `{\n${lines.join(',\n')}\n}\n`);
  const manifest = {
    generator: 'attnvgg shapes',
    version: 1,
    seed,
    size,
    classes,
    counts,
    boxes: `${BOXES_FILE}: relative path -> [x0, y0, x1, y1], the object's pixel box, x1 and y1 exclusive`,
  };
  await writeFileAtomic(join(outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return {
    root: outDir,
    classes,
    size,
    counts,
    seed,
    images: jobs.length,
    boxesFile: join(outDir, BOXES_FILE),
  };
}

/** Reads the boxes.json of a generated dataset. */
export async function readShapesBoxes(root: string): Promise<Record<string, ObjectBox>> {
  return JSON.parse(await readFile(join(root, BOXES_FILE), 'utf8')) as Record<string, ObjectBox>;
}

function resolveClasses(classes: number | readonly ShapeClass[]): ShapeClass[] {
  if (typeof classes === 'number') {
    if (!Number.isInteger(classes) || classes < 2 || classes > SHAPE_CLASSES.length) {
      throw new RangeError(`Expected 2 to ${SHAPE_CLASSES.length} classes, got ${classes}`);
    }
    return SHAPE_CLASSES.slice(0, classes);
  }
  for (const name of classes) {
    if (!SHAPE_CLASSES.includes(name)) {
      throw new RangeError(`Unknown shape "${name}". Should be one of: ${SHAPE_CLASSES.join(', ')}`);
    }
  }
  if (new Set(classes).size !== classes.length || classes.length < 2) {
    throw new RangeError(`Expected at least 2 different shapes, got ${classes.join(', ')}`);
  }
  return [...classes];
}
