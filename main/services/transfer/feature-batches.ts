// Serves the feature cache's entries (feature-cache.ts) to the head trainer: a batch of (image, view)
// entries as tensors in the cache's precision (the attention inputs NHWC, pool5 when cached: the stored
// half-precision bits or float32 values copied as they are, the engine widens them) with their labels, and
// an epoch of such batches in a seeded order, each image as one of its views drawn per (seed, epoch,
// image), the next batch read while the caller works on the current one. Must not import electron or
// anything from main/electron, main/backend, main/server, main/cli or renderer.

import type {
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
}

type Entry = { image: number; view: number };

/** The features of the given entries, in that order (RangeError for an entry the cache does not hold). */
export async function readFeatureBatch(
  cache: CachedEntries,
  entries: readonly Entry[],
): Promise<FeatureBatch> {
  const { shapes, localSizes, views } = cache;
  const n = entries.length;
  const precision = cache.store.precision;
  const tensor = (shape: number[]): FeatureTensor => {
    const size = shape.reduce((a, b) => a * b, 1);
    return { shape, data: precision === 'float16' ? new Uint16Array(size) : new Float32Array(size) };
  };
  const locals = shapes.locals.map(([h, w, c]) => tensor([n, h, w, c]));
  const p5 = shapes.pool5;
  const pool5 = p5 === undefined ? undefined : tensor([n, p5]);
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

/** One epoch of batches (see the module comment). */
export async function* epochBatches(
  cache: CachedEntries,
  o: { epoch: number; batchSize: number; seed?: number; shuffle?: boolean },
): AsyncGenerator<FeatureBatch> {
  const { views } = cache;
  const seed = o.seed ?? cache.seed;
  const order = epochOrder(cache.count, { shuffle: o.shuffle, seed, epoch: o.epoch });
  const viewOf = (image: number) =>
    views === 1 ? 0 : Math.floor(createRandom(deriveSeed(seed, 'pick', o.epoch, image)).next() * views);
  const slices: Entry[][] = [];
  for (let i = 0; i < order.length; i += o.batchSize)
    slices.push(order.slice(i, i + o.batchSize).map((image) => ({ image, view: viewOf(image) })));
  let next = slices.length > 0 ? readFeatureBatch(cache, slices[0]) : undefined;
  for (let i = 0; i < slices.length; i++) {
    const current = await next!;
    next = i + 1 < slices.length ? readFeatureBatch(cache, slices[i + 1]) : undefined;
    yield current;
  }
}
