// The fast path for a frozen backbone: when conv blocks 1..k are frozen (their BatchNorm on running
// statistics), what they compute for an image never changes between epochs. This module computes it once
// per image and augmented view with onnxruntime-node on the exported backbone sub-graph
// (models/onnx/export.ts exportBackboneOnnx), stores it in half precision in memory up to a limit and in
// files in a workspace folder beyond it (with a size limit, written atomically), and serves it as batches
// for the head trainer (head-trainer.ts). With k = 5 it caches the three attention inputs l1, l2, l3
// (conv 7, 10, 13 after ReLU) and pool5; with k = 4 only l1 and l2 (conv 7 and 10 after ReLU, before
// pooling), from which the trainer computes block 5 itself (pool4 is the max-pool of l2). View 0 of each
// image is the plain centre crop; views 1..V-1 are augmented with streams seeded per (seed, view, image),
// so a rebuilt cache holds the same pictures. Trade-offs: docs/transfer.md. Must not import electron or
// anything from main/electron, main/server, main/cli or renderer.

import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createRandom } from '../../../models/core/random.js';
import {
  featureShapes,
  valuesPerView,
  type CachedFrozenBlocks,
  type FeatureBatch,
  type FeatureShapes,
  type FeatureSource,
} from '../../../models/core/cached-features.js';
import { validateSpec, type ModelSpec } from '../../../models/core/spec.js';
import type { NamedArray, Weights } from '../../../models/core/weights.js';
import { exportBackboneOnnx } from '../../../models/onnx/export.js';
import { BACKBONE_LOCALS, BACKBONE_POOL5 } from '../../../models/onnx/metadata.js';
import type { Device } from '../../../models/onnx/device.js';
import { openOnnxSession } from '../../../models/onnx/session.js';
import { augmentRgb8, type AugmentOptions } from '../datasets/augment-image.js';
import type { BatchItem, SkippedFile } from '../datasets/batch-stream.js';
import { epochOrder } from '../datasets/batch-stream.js';
import { deriveSeed } from '../datasets/derive-seed.js';
import { decodeImageRgb8, type DecodeOptions } from '../images/decode-image.js';
import { imageFailureInfo } from '../images/image-error.js';
import { normaliseRgb8, type NormaliseOptions } from '../images/normalise.js';
import { writeFileAtomic } from '../storage/atomic-write.js';
import { fromHalf, toHalf } from './half-float.js';

export class FeatureCacheError extends Error {
  override name = 'FeatureCacheError';
}

export const DEFAULT_MEMORY_LIMIT_BYTES = 2 * 1024 ** 3;

/**
 * One memory budget (default DEFAULT_MEMORY_LIMIT_BYTES) for a run's training and validation caches,
 * shared in proportion to the views each stores; the two parts add up to the budget.
 */
export function splitMemoryBudget(
  budget: number | undefined,
  stored: { train: number; val: number },
): { train: number; val: number } {
  const total = budget ?? DEFAULT_MEMORY_LIMIT_BYTES;
  const train = Math.floor((total * stored.train) / Math.max(1, stored.train + stored.val));
  return { train, val: total - train };
}
export const DEFAULT_DISK_LIMIT_BYTES = 20 * 1024 ** 3;

/** How cached values are stored: half precision, or float32 (exact, twice the memory and disk). */
export type FeatureCachePrecision = 'float16' | 'float32';

export interface FeatureCacheOptions extends NormaliseOptions {
  spec: ModelSpec;
  /** The frozen backbone's `features.*` tensors (PyTorch layout), e.g. from loadBackboneWeights. */
  backbone: Weights;
  /**
   * Conv blocks frozen (default 5, the whole backbone: the "quick" preset). 4 (the "balanced" preset)
   * caches l1 and l2 only; block 5 trains on them. Other values are refused.
   */
  frozenBlocks?: number;
  /** Stored views per image (default 1: no augmentation). View 0 is never augmented. */
  views?: number;
  /** Augmentation of views 1..V-1 (default flip only). */
  augment?: AugmentOptions;
  /** Seed of the augmentation streams (default 0). */
  seed?: number;
  /** Decoding settings other than the size. */
  decode?: Omit<DecodeOptions, 'size'>;
  /** Half precision (default) or float32 (exact features, twice the memory and disk). */
  precision?: FeatureCachePrecision;
  /** In-memory budget (default 2 GiB); views beyond it go to files in `spillDir`. */
  memoryLimitBytes?: number;
  /** Workspace folder for spilled views (a fresh sub-folder is made and removed by dispose()). */
  spillDir?: string;
  /** Largest total size of spilled files (default 20 GiB). */
  diskLimitBytes?: number;
  /** Images per onnxruntime run (default 8). */
  runBatch?: number;
  /** onnxruntime intra-op threads (default: all cores). */
  threads?: number;
  /** The onnxruntime device the backbone runs on (default cpu). */
  device?: Device;
  onProgress?: (progress: { done: number; total: number }) => void;
  onSkip?: (skipped: SkippedFile) => void;
  signal?: AbortSignal;
}

export interface FeatureCacheStats {
  images: number;
  views: number;
  memoryBytes: number;
  diskBytes: number;
  /** Wall time spent building the cache, ms. */
  buildMs: number;
}

export interface FeatureCache extends FeatureSource {
  readonly spec: ModelSpec;
  readonly shapes: FeatureShapes;
  /** Images kept (files that failed to decode are left out and reported through onSkip). */
  readonly count: number;
  readonly views: number;
  readonly labels: Int32Array;
  readonly skipped: readonly SkippedFile[];
  stats(): FeatureCacheStats;
  /** Frees memory and deletes the spilled files. (Batches are read ahead while the caller works.) */
  dispose(): Promise<void>;
}

/** The frozen blocks of the options, checked: 4 or 5 (default 5). */
function cachedFrozenBlocks(frozenBlocks: number | undefined): CachedFrozenBlocks {
  const k = frozenBlocks ?? 5;
  if (k !== 4 && k !== 5)
    throw new FeatureCacheError(
      `Only frozen blocks 1..4 or 1..5 are cached; got ${frozenBlocks}. Train with the full model instead.`,
    );
  return k;
}

/** NCHW [n, c, h, w] slice of image k -> NHWC, written into `out` at `offset`. */
function toNhwc(src: NamedArray, k: number, out: Float32Array, offset: number): void {
  const [, c, h, w] = src.shape;
  const hw = h * w;
  const base = k * c * hw;
  for (let ch = 0; ch < c; ch++) {
    const from = base + ch * hw;
    for (let p = 0; p < hw; p++) out[offset + p * c + ch] = src.data[from + p];
  }
}

type Stored = Uint16Array | Float32Array;

function formatBytes(n: number): string {
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/**
 * Computes and stores the frozen backbone's outputs for every item and view (see the module comment).
 * Throws FeatureCacheError before computing anything when the cache would not fit its limits.
 */
export async function buildFeatureCache(
  items: readonly BatchItem[],
  options: FeatureCacheOptions,
): Promise<FeatureCache> {
  const started = performance.now();
  const spec = validateSpec(options.spec);
  const frozenBlocks = cachedFrozenBlocks(options.frozenBlocks);
  const views = options.views ?? 1;
  if (!Number.isInteger(views) || views < 1)
    throw new FeatureCacheError(`views must be a whole number of at least 1, got ${views}.`);
  const precision = options.precision ?? 'float16';
  const bytesPerValue = precision === 'float16' ? 2 : 4;
  const perView = valuesPerView(spec, frozenBlocks);
  const viewBytes = perView * bytesPerValue;
  const memoryLimit = options.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT_BYTES;
  const diskLimit = options.spillDir ? (options.diskLimitBytes ?? DEFAULT_DISK_LIMIT_BYTES) : 0;
  const needed = items.length * views * viewBytes;
  if (needed > memoryLimit + diskLimit)
    throw new FeatureCacheError(
      `The cached features would take ${formatBytes(needed)} (${items.length} images x ${views} views x ` +
        `${(viewBytes / 1024 ** 2).toFixed(2)} MiB in ${precision} at S=${spec.inputSize}), more than the memory limit ` +
        `(${formatBytes(memoryLimit)}) plus the disk limit (${formatBytes(diskLimit)}${options.spillDir ? '' : ': no spill folder given'}). ` +
        `Use fewer views${precision === 'float32' ? ', float16 (half the bytes)' : ''} or a smaller input size, or raise the limits.`,
    );
  const shapes = featureShapes(spec, frozenBlocks);
  const localSizes = shapes.locals.map(([h, w, c]) => h * w * c);
  const size = spec.inputSize;
  const decode: DecodeOptions = { ...options.decode, size };
  const augment = options.augment ?? { flip: true };
  const seed = options.seed ?? 0;
  const runBatch = options.runBatch ?? 8;

  const memory: (Stored | undefined)[] = [];
  const files: (string | undefined)[] = [];
  let memoryBytes = 0;
  let diskBytes = 0;
  let spillFolder: string | undefined;
  const kept: number[] = [];
  const skipped: SkippedFile[] = [];

  const store = async (slot: number, values: Float32Array): Promise<void> => {
    const data: Stored = precision === 'float16' ? toHalf(values) : values.slice();
    if (memoryBytes + data.byteLength <= memoryLimit) {
      memory[slot] = data;
      memoryBytes += data.byteLength;
      return;
    }
    if (!options.spillDir || diskBytes + data.byteLength > diskLimit)
      throw new FeatureCacheError(
        `The feature cache is full (${formatBytes(memoryBytes)} in memory, ${formatBytes(diskBytes)} on disk, ${precision}).`,
      );
    if (!spillFolder) {
      await mkdir(options.spillDir, { recursive: true });
      spillFolder = await mkdtemp(join(options.spillDir, 'features-'));
    }
    const file = join(spillFolder, `${slot}.${precision === 'float16' ? 'f16' : 'f32'}`);
    await writeFileAtomic(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), {
      durable: false,
    });
    files[slot] = file;
    diskBytes += data.byteLength;
  };

  const decodeItem = async (index: number): Promise<Uint8Array | undefined> => {
    const item = items[index];
    try {
      return (await decodeImageRgb8(item.path, decode)).data;
    } catch (error) {
      const s = { path: item.path, error: imageFailureInfo(error, item.path) };
      skipped.push(s);
      options.onSkip?.(s);
      return undefined;
    }
  };

  const session = await openOnnxSession(
    exportBackboneOnnx(spec, options.backbone, { lastBlock: frozenBlocks }),
    { ...(options.threads ? { intraOpThreads: options.threads } : {}), device: options.device },
  );
  try {
    const localNames = BACKBONE_LOCALS.slice(0, shapes.locals.length);
    const outputs = shapes.pool5 === undefined ? localNames : [...localNames, BACKBONE_POOL5];
    const perImage = size * size * 3;
    // Decoding of chunk k+1 overlaps onnxruntime's work on chunk k.
    const chunks: number[][] = [];
    for (let i = 0; i < items.length; i += runBatch)
      chunks.push(Array.from({ length: Math.min(runBatch, items.length - i) }, (_, k) => i + k));
    const decodeChunk = (chunk: number[]) => Promise.all(chunk.map(decodeItem));
    let nextDecoded = chunks.length > 0 ? decodeChunk(chunks[0]) : undefined;
    let done = 0;
    const total = items.length * views;
    for (let c = 0; c < chunks.length; c++) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('cancelled');
      const pixels = await nextDecoded!;
      nextDecoded = c + 1 < chunks.length ? decodeChunk(chunks[c + 1]) : undefined;
      const good = chunks[c].flatMap((index, k) => (pixels[k] ? [{ index, rgb: pixels[k] }] : []));
      if (good.length === 0) continue;
      const firstSlot = kept.length;
      for (const g of good) kept.push(g.index);
      for (let view = 0; view < views; view++) {
        const x = new Float32Array(good.length * perImage);
        good.forEach(({ index, rgb }, k) => {
          const image =
            view === 0
              ? rgb
              : augmentRgb8(
                  rgb,
                  size,
                  augment,
                  createRandom(
                    deriveSeed(seed, 'view', view, items[index].relativePath ?? items[index].path),
                  ),
                );
          // NHWC -> NCHW for the ONNX graph.
          const hwc = normaliseRgb8(image, options);
          const base = k * perImage;
          for (let p = 0; p < size * size; p++)
            for (let ch = 0; ch < 3; ch++) x[base + ch * size * size + p] = hwc[p * 3 + ch];
        });
        const result = await session.run({ shape: [good.length, 3, size, size], data: x }, { outputs });
        const values = new Float32Array(perView);
        for (let k = 0; k < good.length; k++) {
          let offset = 0;
          localNames.forEach((name, level) => {
            toNhwc(result[name], k, values, offset);
            offset += localSizes[level];
          });
          const p5 = shapes.pool5;
          if (p5 !== undefined)
            values.set(result[BACKBONE_POOL5].data.subarray(k * p5, (k + 1) * p5), offset);
          await store((firstSlot + k) * views + view, values);
        }
        done += good.length;
        options.onProgress?.({ done, total });
      }
    }
  } catch (e) {
    if (spillFolder) await rm(spillFolder, { recursive: true, force: true });
    throw e;
  } finally {
    await session.release();
  }
  const buildMs = performance.now() - started;
  const labels = Int32Array.from(kept, (i) => items[i].classIndex);

  const read = async (slot: number): Promise<Stored> => {
    const m = memory[slot];
    if (m) return m;
    const file = files[slot];
    if (!file) throw new FeatureCacheError(`No cached features for entry ${slot}.`);
    const bytes = await readFile(file);
    const copy = new Uint8Array(bytes); // aligned
    return precision === 'float16' ? new Uint16Array(copy.buffer) : new Float32Array(copy.buffer);
  };

  const batch = async (entries: readonly { image: number; view: number }[]): Promise<FeatureBatch> => {
    const n = entries.length;
    const locals: NamedArray[] = shapes.locals.map(([h, w, c]) => ({
      shape: [n, h, w, c],
      data: new Float32Array(n * h * w * c),
    }));
    const p5 = shapes.pool5;
    const pool5 = p5 === undefined ? undefined : { shape: [n, p5], data: new Float32Array(n * p5) };
    const stored = await Promise.all(
      entries.map(({ image, view }) => {
        if (!(image >= 0 && image < kept.length && view >= 0 && view < views))
          throw new RangeError(`No cached entry for image ${image}, view ${view}.`);
        return read(image * views + view);
      }),
    );
    const unpack = (data: Stored, out: Float32Array, at: number, offset: number, length: number): void => {
      if (data instanceof Uint16Array) fromHalf(data, out, at, offset, length);
      else out.set(data.subarray(offset, offset + length), at);
    };
    stored.forEach((data, k) => {
      let offset = 0;
      locals.forEach((local, level) => {
        unpack(data, local.data, k * localSizes[level], offset, localSizes[level]);
        offset += localSizes[level];
      });
      if (pool5 && p5 !== undefined) unpack(data, pool5.data, k * p5, offset, p5);
    });
    const labelsOf = Int32Array.from(entries, (e) => labels[e.image]);
    return { frozenBlocks, locals, ...(pool5 ? { pool5 } : {}), labels: labelsOf, size: n };
  };

  async function* epoch(o: { epoch: number; batchSize: number; seed?: number; shuffle?: boolean }) {
    const order = epochOrder(kept.length, { shuffle: o.shuffle, seed: o.seed ?? seed, epoch: o.epoch });
    const viewOf = (image: number) =>
      views === 1
        ? 0
        : Math.floor(createRandom(deriveSeed(o.seed ?? seed, 'pick', o.epoch, image)).next() * views);
    const slices: { image: number; view: number }[][] = [];
    for (let i = 0; i < order.length; i += o.batchSize)
      slices.push(order.slice(i, i + o.batchSize).map((image) => ({ image, view: viewOf(image) })));
    let next = slices.length > 0 ? batch(slices[0]) : undefined;
    for (let i = 0; i < slices.length; i++) {
      const current = await next!;
      next = i + 1 < slices.length ? batch(slices[i + 1]) : undefined;
      yield current;
    }
  }

  return {
    spec,
    frozenBlocks,
    shapes,
    count: kept.length,
    views,
    labels,
    skipped,
    stats: () => ({ images: kept.length, views, memoryBytes, diskBytes, buildMs }),
    batch,
    epoch,
    async dispose() {
      memory.length = 0;
      files.length = 0;
      if (spillFolder) await rm(spillFolder, { recursive: true, force: true });
    },
  };
}
