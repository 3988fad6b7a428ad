// The cached outputs of frozen conv blocks, as the training paths on cached features see them: which
// blocks may be frozen (1..4 or 1..5), the tensors' shapes, a batch of them, and the source of batches
// (main/services/transfer/feature-cache.ts builds one from image files). The TensorFlow.js head trainer
// (tfjs/head-trainer.ts) and the ONNX graph on features (onnx-train/, source 'features') take these.
// Pure: the spec only.

import { fromHalf } from './half-float.js';
import { attentionMapSizes, channels, type ModelSpec } from './spec.js';
import type { NamedArray } from './weights.js';

/** The frozen blocks whose outputs can be cached: 5 (the heads train) or 4 (block 5 trains too). */
export type CachedFrozenBlocks = 4 | 5;

export const CACHED_FROZEN_BLOCKS: readonly CachedFrozenBlocks[] = [4, 5];

/** The cached tensors' shapes without the batch dimension: NHWC for locals, [D] for pool5. */
export interface FeatureShapes {
  /** l1, l2, l3 with 5 frozen blocks; l1, l2 with 4. */
  locals: [number, number, number][];
  /** With 5 frozen blocks only. */
  pool5?: number;
}

/** How a cache holds its values, and so how its batches come: half precision (binary16 bits) or float32. */
export type FeaturePrecision = 'float16' | 'float32';

/** A cached tensor of a batch: float32 values, or the binary16 bits of half-precision ones. */
export interface FeatureTensor {
  shape: number[];
  data: Float32Array | Uint16Array;
}

/**
 * A batch of cached features, NHWC, in the cache's precision (`data` is a Uint16Array of binary16 bits
 * for 'float16', a Float32Array for 'float32'): with 5 frozen blocks l1, l2, l3 (conv 7, 10, 13 after
 * ReLU) and pool5 (flattened in (C, H, W) order); with 4, l1 and l2 only. An engine that takes float32
 * only reads it through float32Features.
 */
export interface FeatureBatch {
  frozenBlocks: CachedFrozenBlocks;
  precision: FeaturePrecision;
  locals: FeatureTensor[];
  pool5?: FeatureTensor;
  labels: Int32Array;
  size: number;
}

/** A cached tensor as float32 values (half-precision bits widened exactly; float32 as it is). */
export function asFloat32(t: FeatureTensor): NamedArray {
  return { shape: t.shape, data: t.data instanceof Float32Array ? t.data : fromHalf(t.data) };
}

/** The batch's tensors as float32 (see asFloat32). */
export function float32Features(batch: Pick<FeatureBatch, 'locals' | 'pool5'>): {
  locals: NamedArray[];
  pool5?: NamedArray;
} {
  return {
    locals: batch.locals.map(asFloat32),
    ...(batch.pool5 ? { pool5: asFloat32(batch.pool5) } : {}),
  };
}

/** An (image, view) entry of a cache. */
export interface CachedEntry {
  image: number;
  view: number;
}

/** Where batches of cached features come from (a feature cache). */
export interface FeatureSource {
  readonly frozenBlocks: CachedFrozenBlocks;
  /** Images held. */
  readonly count: number;
  /** The features of the given (image, view) pairs, in that order, in arrays of their own. */
  batch(entries: readonly CachedEntry[]): Promise<FeatureBatch>;
  /**
   * The batches of the given lists of entries, in order, the next read while the caller works on the
   * current one. The batches' arrays are reused: a yielded batch is valid until the next one is asked
   * for (copy what must outlive that).
   */
  batches(lists: readonly (readonly CachedEntry[])[]): AsyncGenerator<FeatureBatch>;
  /**
   * One epoch of batches in a seeded order; each image comes as one of its views, drawn per
   * (seed, epoch, image). Arrays reused as batches() does.
   */
  epoch(options: {
    epoch: number;
    batchSize: number;
    seed?: number;
    shuffle?: boolean;
  }): AsyncGenerator<FeatureBatch>;
}

export function featureShapes(spec: ModelSpec, frozenBlocks: CachedFrozenBlocks = 5): FeatureShapes {
  const [s1, s2, s3] = attentionMapSizes(spec);
  const c256 = channels(spec, 256);
  const c512 = channels(spec, 512);
  const l1l2: [number, number, number][] = [
    [s1, s1, c256],
    [s2, s2, c512],
  ];
  if (frozenBlocks === 4) return { locals: l1l2 };
  return { locals: [...l1l2, [s3, s3, c512]], pool5: c512 * (spec.inputSize / 32) ** 2 };
}

/** Values stored per view: l1 + l2 + l3 + pool5 with 5 frozen blocks, l1 + l2 with 4. */
export function valuesPerView(spec: ModelSpec, frozenBlocks: CachedFrozenBlocks = 5): number {
  const s = featureShapes(spec, frozenBlocks);
  return s.locals.reduce((n, [h, w, c]) => n + h * w * c, 0) + (s.pool5 ?? 0);
}

/**
 * Every image of a source once, as view 0 (the plain centre crop), in order, `batchSize` at a time
 * (arrays reused: see FeatureSource.batches).
 */
export function viewZeroBatches(source: FeatureSource, batchSize: number): AsyncGenerator<FeatureBatch> {
  const lists: CachedEntry[][] = [];
  for (let start = 0; start < source.count; start += batchSize)
    lists.push(
      Array.from({ length: Math.min(batchSize, source.count - start) }, (_, k) => ({
        image: start + k,
        view: 0,
      })),
    );
  return source.batches(lists);
}
