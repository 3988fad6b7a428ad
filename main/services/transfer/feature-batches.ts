// Serves the feature cache's entries (feature-cache.ts) to the head trainer: a batch of (image, view)
// entries as tensors in the cache's precision (the attention inputs NHWC, pool5 when cached: the stored
// half-precision bits or float32 values copied as they are, the engine widens them) with their labels, and
// an epoch of such batches in a seeded order, each image as one of its views drawn per (seed, epoch,
// image), the next batch read while the caller works on the current one. A stream of batches writes into
// two sets of arrays in turn, which it gives back to the cache for the next stream when it ends: fresh
// arrays of this size cost more than the copy itself (the pages of a new buffer are faulted in on first
// write: about 8 ms against 0.2 ms a view at S=224).
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import type {
  CachedEntry,
  CachedFrozenBlocks,
  FeatureBatch,
  FeatureShapes,
  FeatureTensor,
} from '../../../models/core/cached-features.js';
import { createRandom } from '../../../models/core/random.js';
import { epochOrder } from '../datasets/batch-stream.js';
import { deriveSeed } from '../datasets/derive-seed.js';
import type { FeatureStore, StoredFeatures } from './feature-store.js';

/** What a built cache holds: entry (image, view) is the store's slot image * views + view. */
export interface CachedEntries {
  store: FeatureStore;
  frozenBlocks: CachedFrozenBlocks;
  shapes: FeatureShapes;
  /** Values of each attention input per entry (h * w * c). */
  localSizes: number[];
  /** Images held. */
  count: number;
  views: number;
  labels: Int32Array;
  /** The default seed of the epochs' order and view draws. */
  seed: number;
  /** Batch arrays a finished stream gave back, for the next stream (at most two). */
  spare: BatchArrays[];
}

/** Arrays for batches of up to `capacity` entries: one per cached tensor, in the store's precision. */
export class BatchArrays {
  private readonly arrays: (Float32Array | Uint16Array)[];

  constructor(
    cache: CachedEntries,
    readonly capacity: number,
  ) {
    const sizes = [...cache.localSizes, ...(cache.shapes.pool5 === undefined ? [] : [cache.shapes.pool5])];
    const half = cache.store.precision === 'float16';
    this.arrays = sizes.map((size) =>
      half ? new Uint16Array(capacity * size) : new Float32Array(capacity * size),
    );
  }

  /** Tensor k of a batch of `shape` (its first dimension the batch size): the start of array k. */
  tensor(k: number, shape: number[]): FeatureTensor {
    const size = shape.reduce((a, b) => a * b, 1);
    return { shape, data: this.arrays[k].subarray(0, size) };
  }
}

/**
 * The features of the given entries, in that order (RangeError for an entry the cache does not hold), in
 * `into`'s arrays when given (up to its capacity), else in fresh ones.
 */
export async function readFeatureBatch(
  cache: CachedEntries,
  entries: readonly CachedEntry[],
  into?: BatchArrays,
): Promise<FeatureBatch> {
  const { shapes, localSizes, views } = cache;
  const n = entries.length;
  const precision = cache.store.precision;
  const arrays = into && n <= into.capacity ? into : new BatchArrays(cache, n);
  const locals = shapes.locals.map(([h, w, c], k) => arrays.tensor(k, [n, h, w, c]));
  const p5 = shapes.pool5;
  const pool5 = p5 === undefined ? undefined : arrays.tensor(locals.length, [n, p5]);
  const stored = await Promise.all(
    entries.map(({ image, view }) => {
      if (!(image >= 0 && image < cache.count && view >= 0 && view < views))
        throw new RangeError(`No cached entry for image ${image}, view ${view}.`);
      return cache.store.get(image * views + view);
    }),
  );
  stored.forEach((data, k) => {
    let offset = 0;
    locals.forEach((local, level) => {
      copyValues(data, local.data, k * localSizes[level], offset, localSizes[level]);
      offset += localSizes[level];
    });
    if (pool5 && p5 !== undefined) copyValues(data, pool5.data, k * p5, offset, p5);
  });
  const labelsOf = Int32Array.from(entries, (e) => cache.labels[e.image]);
  return {
    frozenBlocks: cache.frozenBlocks,
    precision,
    locals,
    ...(pool5 ? { pool5 } : {}),
    labels: labelsOf,
    size: n,
  };
}

/** `length` stored values from `offset` into `out` at `at` (both in the store's precision). */
function copyValues(
  data: StoredFeatures,
  out: Float32Array | Uint16Array,
  at: number,
  offset: number,
  length: number,
): void {
  if (data instanceof Uint16Array !== out instanceof Uint16Array)
    throw new TypeError('A cached entry and its batch differ in precision.');
  out.set(data.subarray(offset, offset + length), at);
}

/**
 * The batches of the given entry lists, in order, the next read while the caller works on the current
 * one, in two sets of arrays used in turn: a yielded batch is valid until the next one is asked for.
 */
export async function* streamBatches(
  cache: CachedEntries,
  lists: readonly (readonly CachedEntry[])[],
): AsyncGenerator<FeatureBatch> {
  const capacity = Math.max(0, ...lists.map((l) => l.length));
  const sets = lists.length > 1 ? [arraysFor(cache, capacity), arraysFor(cache, capacity)] : [];
  const read = (i: number) => readFeatureBatch(cache, lists[i], sets[i % 2]);
  let next = lists.length > 0 ? read(0) : undefined;
  try {
    for (let i = 0; i < lists.length; i++) {
      const current = await next!;
      next = i + 1 < lists.length ? read(i + 1) : undefined;
      yield current;
    }
  } finally {
    // A stream left early may still be reading its next batch: its arrays are not given back.
    if (next === undefined) cache.spare = [...sets, ...cache.spare].slice(0, 2);
  }
}

/** A spare set of arrays of at least `capacity` entries, else a new one. */
function arraysFor(cache: CachedEntries, capacity: number): BatchArrays {
  const k = cache.spare.findIndex((a) => a.capacity >= capacity);
  return k >= 0 ? cache.spare.splice(k, 1)[0] : new BatchArrays(cache, capacity);
}

/** One epoch of batches (see the module comment). */
export function epochBatches(
  cache: CachedEntries,
  o: { epoch: number; batchSize: number; seed?: number; shuffle?: boolean },
): AsyncGenerator<FeatureBatch> {
  const { views } = cache;
  const seed = o.seed ?? cache.seed;
  const order = epochOrder(cache.count, { shuffle: o.shuffle, seed, epoch: o.epoch });
  const viewOf = (image: number) =>
    views === 1 ? 0 : Math.floor(createRandom(deriveSeed(seed, 'pick', o.epoch, image)).next() * views);
  const lists: CachedEntry[][] = [];
  for (let i = 0; i < order.length; i += o.batchSize)
    lists.push(order.slice(i, i + o.batchSize).map((image) => ({ image, view: viewOf(image) })));
  return streamBatches(cache, lists);
}
