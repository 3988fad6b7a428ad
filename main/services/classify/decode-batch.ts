// The decoding phase of a classification (classify-folder.ts): the files of one unit decoded a few at a
// time, normalised exactly as in training and laid out as one NCHW batch for the model; a file that
// cannot be read becomes a failed row with its reason. Must not import electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.

import { stat } from 'node:fs/promises';
import type { Semaphore } from '../datasets/semaphore.js';
import { decodeImageRgb8, type Rgb8Image } from '../images/decode-image.js';
import { ImageError, imageErrorFromFileSystem } from '../images/image-error.js';
import { normaliseRgb8 } from '../images/normalise.js';
import type { IndexedFile, Unit } from './batch-units.js';
import type { ClassifySetup } from './classify-setup.js';
import type { ImageResult } from './results.js';

/** A file of a batch that was decoded, waiting for the model's answer. */
export interface DecodedImage {
  file: IndexedFile;
  decodeMs: number;
  bytes: number;
  mtimeMs: number;
  /** The decoded S x S picture, kept when the overlay is drawn at S. */
  pixels: Uint8Array | null;
  sourceWidth: number;
  sourceHeight: number;
}

/** One unit, decoded. */
export interface DecodedBatch {
  unit: Unit;
  /** NCHW batch of the decoded files, in `kept` order. */
  x: Float32Array;
  kept: DecodedImage[];
  failed: ImageResult[];
}

/** One file's decoding: the picture, or what went wrong; with its time and what stat found. */
type Decoding = { file: IndexedFile; ms: number; bytes?: number; mtimeMs?: number } & (
  { image: Rgb8Image } | { error: unknown }
);

function failedResult(file: IndexedFile, raw: unknown, ms: number): ImageResult {
  let error = raw;
  if (!(raw instanceof ImageError) && (raw as NodeJS.ErrnoException | undefined)?.code !== undefined)
    error = imageErrorFromFileSystem(raw, file.path); // gone since the walk, permissions, ...
  const info =
    error instanceof ImageError
      ? { reason: error.reason, message: error.message }
      : {
          reason: 'corrupt',
          message: `The image could not be prepared (${(error as Error).message ?? String(error)}).`,
        };
  return {
    index: file.index,
    file: file.file,
    path: file.path,
    status: 'failed',
    label: null,
    uncertain: false,
    top: [],
    ms,
    error: info,
    bytes: -1,
    mtimeMs: -1,
  };
}

/** Row-major HWC float (normaliseRgb8's output) to CHW at `offset` of `out`. */
function hwcToChw(hwc: Float32Array, size: number, out: Float32Array, offset: number): void {
  const plane = size * size;
  for (let p = 0; p < plane; p++) {
    out[offset + p] = hwc[p * 3];
    out[offset + plane + p] = hwc[p * 3 + 1];
    out[offset + 2 * plane + p] = hwc[p * 3 + 2];
  }
}

async function decodeFile(setup: ClassifySetup, file: IndexedFile): Promise<Decoding> {
  const t0 = performance.now();
  let s: { size: number; mtimeMs: number } | null = null;
  try {
    s = await stat(file.path);
    const image = await decodeImageRgb8(file.path, setup.decode);
    return { file, image, ms: performance.now() - t0, bytes: s.size, mtimeMs: s.mtimeMs };
  } catch (error) {
    return { file, error, ms: performance.now() - t0, bytes: s?.size, mtimeMs: s?.mtimeMs };
  }
}

/** The decoded files as one normalised NCHW batch, and the failed ones as rows. */
function assembleBatch(setup: ClassifySetup, unit: Unit, decoded: readonly Decoding[]): DecodedBatch {
  const { size } = setup;
  const perImage = 3 * size * size;
  const kept: DecodedImage[] = [];
  const failed: ImageResult[] = [];
  const okCount = decoded.filter((d) => 'image' in d).length;
  const x = new Float32Array(okCount * perImage);
  const hwc = new Float32Array(perImage);
  for (const d of decoded) {
    if ('image' in d && d.image) {
      const { image } = d;
      normaliseRgb8(image.data, setup.normalisation, hwc, 0);
      hwcToChw(hwc, size, x, kept.length * perImage);
      const reuse = setup.heatmaps && setup.overlaySide(image.sourceWidth, image.sourceHeight) === size;
      kept.push({
        file: d.file,
        decodeMs: d.ms,
        bytes: d.bytes ?? 0,
        mtimeMs: d.mtimeMs ?? 0,
        pixels: reuse ? image.data : null,
        sourceWidth: image.sourceWidth,
        sourceHeight: image.sourceHeight,
      });
    } else
      failed.push({
        ...failedResult(d.file, (d as { error: unknown }).error, d.ms),
        bytes: d.bytes ?? -1,
        mtimeMs: d.mtimeMs ?? -1,
      });
  }
  return { unit, x, kept, failed };
}

/** Decodes a unit's files, at most `slots` at a time, into one batch. */
export async function decodeBatch(setup: ClassifySetup, unit: Unit, slots: Semaphore): Promise<DecodedBatch> {
  const decoded = await Promise.all(unit.todo.map((file) => slots.run(() => decodeFile(setup, file))));
  return assembleBatch(setup, unit, decoded);
}
