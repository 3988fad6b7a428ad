// Fashion-MNIST from its idx files (Debian's dataset-fashion-mnist installs them gzipped in
// /usr/share/datasets/fashion-mnist): load them as arrays (for benchmarks) or write them out as a dataset
// folder of PNGs, one sub-folder per class, that the app can train on (`attnvgg data fashion-mnist`).
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
import { access, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import sharp from 'sharp';
import { writeFileAtomic } from '../storage/atomic-write.js';

export const DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

/** Label i of the idx files is FASHION_MNIST_CLASSES[i] (folder-safe names). */
export const FASHION_MNIST_CLASSES = [
  'T-shirt_top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle_boot',
] as const;

export type FashionMnistSplit = 'train' | 'test';

const FILES: Record<FashionMnistSplit, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

export class FashionMnistError extends Error {
  override readonly name = 'FashionMnistError';
}

/** Images of one split in memory: 28 x 28 grey bytes per image, in file order. */
export interface FashionMnistSet {
  split: FashionMnistSplit;
  count: number;
  height: number;
  width: number;
  /** count x height x width bytes, 0 = background (black), 255 = ink. */
  images: Uint8Array;
  /** Class index of each image (0..9). */
  labels: Uint8Array;
  /** Position of each image in the idx file. */
  fileIndex: Int32Array;
  classNames: readonly string[];
}

export interface LoadFashionMnistOptions {
  /** Folder holding the idx files, gzipped or not (default Debian's). */
  source?: string;
  split: FashionMnistSplit;
  /** Keep only the first N images of each class, in file order (the benchmarks' recipe); default all. */
  perClass?: number;
}

export async function loadFashionMnist(options: LoadFashionMnistOptions): Promise<FashionMnistSet> {
  const source = options.source ?? DEBIAN_FASHION_MNIST;
  const files = FILES[options.split];
  const images = parseIdx(await readIdxFile(source, files.images), 3, files.images);
  const labels = parseIdx(await readIdxFile(source, files.labels), 1, files.labels);
  const [count, height, width] = images.dims;
  if (labels.dims[0] !== count) {
    throw new FashionMnistError(
      `${files.images} has ${count} images but ${files.labels} has ${labels.dims[0]} labels.`,
    );
  }
  const keep: number[] = [];
  const taken = new Array<number>(FASHION_MNIST_CLASSES.length).fill(0);
  const perClass = options.perClass ?? Infinity;
  for (let i = 0; i < count; i++) {
    const label = labels.data[i];
    if (label >= FASHION_MNIST_CLASSES.length) {
      throw new FashionMnistError(
        `${files.labels} has label ${label} at position ${i}; Fashion-MNIST labels are 0-9.`,
      );
    }
    if (taken[label] < perClass) {
      taken[label]++;
      keep.push(i);
    }
  }
  const pixels = height * width;
  const out = new Uint8Array(keep.length * pixels);
  keep.forEach((i, k) => out.set(images.data.subarray(i * pixels, (i + 1) * pixels), k * pixels));
  return {
    split: options.split,
    count: keep.length,
    height,
    width,
    images: out,
    labels: Uint8Array.from(keep, (i) => labels.data[i]),
    fileIndex: Int32Array.from(keep),
    classNames: FASHION_MNIST_CLASSES,
  };
}

export interface WriteFashionMnistOptions {
  source?: string;
  /** Keep only the first N images of each class of each split (default all). */
  perClass?: number;
  /** 'train' or 'test': class folders directly in outDir; 'both' (default): outDir/train/ and outDir/test/. */
  split?: FashionMnistSplit | 'both';
  /** PNGs encoded and written at once (default 4). */
  concurrency?: number;
  onProgress?: (written: number, total: number) => void;
}

export interface FashionMnistWriteSummary {
  outDir: string;
  /** Images written per split and class. */
  counts: Partial<Record<FashionMnistSplit, Record<string, number>>>;
  images: number;
}

/** Writes <class>/<file index>.png (grey, 28 x 28) for the chosen split(s). Files are written atomically. */
export async function writeFashionMnist(
  outDir: string,
  options: WriteFashionMnistOptions = {},
): Promise<FashionMnistWriteSummary> {
  const which = options.split ?? 'both';
  const splits: FashionMnistSplit[] = which === 'both' ? ['train', 'test'] : [which];
  const sets = await Promise.all(
    splits.map((split) => loadFashionMnist({ source: options.source, split, perClass: options.perClass })),
  );
  const total = sets.reduce((n, s) => n + s.count, 0);
  const counts: FashionMnistWriteSummary['counts'] = {};
  let written = 0;
  for (const set of sets) {
    const root = which === 'both' ? join(outDir, set.split) : outDir;
    for (const name of FASHION_MNIST_CLASSES) await mkdir(join(root, name), { recursive: true });
    const perClass: Record<string, number> = Object.fromEntries(FASHION_MNIST_CLASSES.map((c) => [c, 0]));
    const pixels = set.height * set.width;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < set.count) {
        const k = next++;
        const name = FASHION_MNIST_CLASSES[set.labels[k]];
        const png = await sharp(set.images.subarray(k * pixels, (k + 1) * pixels), {
          raw: { width: set.width, height: set.height, channels: 1 },
        })
          .toColourspace('b-w') // keep one grey channel in the PNG (sharp would otherwise write RGB)
          .png()
          .toBuffer();
        await writeFileAtomic(join(root, name, `${String(set.fileIndex[k]).padStart(5, '0')}.png`), png, {
          durable: false,
        });
        perClass[name]++;
        options.onProgress?.(++written, total);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
    counts[set.split] = perClass;
  }
  return { outDir, counts, images: total };
}

async function readIdxFile(source: string, name: string): Promise<Uint8Array> {
  for (const [file, zipped] of [
    [`${name}.gz`, true],
    [name, false],
  ] as const) {
    const path = join(source, file);
    try {
      await access(path);
    } catch {
      continue;
    }
    const bytes = await readFile(path);
    if (!zipped) return bytes;
    try {
      return await promisify(gunzip)(bytes);
    } catch (error) {
      throw new FashionMnistError(
        `${path} is not a valid gzip file (${(error as Error).message}). Reinstall the dataset.`,
      );
    }
  }
  throw new FashionMnistError(
    `Fashion-MNIST not found: ${join(source, `${name}.gz`)} does not exist. Install Debian's package ` +
      `(apt-get install dataset-fashion-mnist) or give the folder that holds the idx files.`,
  );
}

/** Parses an idx file of unsigned bytes: magic 0x0000 08 <dims>, then each dimension as a big-endian u32. */
function parseIdx(
  bytes: Uint8Array,
  expectedDims: number,
  name: string,
): { dims: number[]; data: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (
    bytes.length < 4 + 4 * expectedDims ||
    bytes[0] !== 0 ||
    bytes[1] !== 0 ||
    bytes[2] !== 0x08 ||
    bytes[3] !== expectedDims
  ) {
    throw new FashionMnistError(`${name} is not an idx file of ${expectedDims}-dimensional unsigned bytes.`);
  }
  const dims = Array.from({ length: expectedDims }, (_, i) => view.getUint32(4 + 4 * i));
  const offset = 4 + 4 * expectedDims;
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length < offset + size) {
    throw new FashionMnistError(
      `${name} is truncated: it should hold ${size} values but has ${bytes.length - offset}.`,
    );
  }
  return { dims, data: bytes.subarray(offset, offset + size) };
}
