// The fast path for a frozen backbone: when conv blocks 1..k are frozen (their BatchNorm on running
// statistics), what they compute for an image never changes between epochs. This module computes it once
// per image and augmented view with onnxruntime-node on the exported backbone sub-graph
// (models/onnx/export.ts exportBackboneOnnx), stores it in half precision in memory up to a limit and in
// files in a workspace folder beyond it (with a size limit, written atomically), and serves it as batches
// for the head trainer (head-trainer.ts). With k = 5 it caches the three attention inputs l1, l2, l3
// (conv 7, 10, 13 after ReLU) and pool5; with k = 4 only l1 and l2 (conv 7 and 10 after ReLU, before
// pooling), from which the trainer computes block 5 itself (pool4 is the max-pool of l2). View 0 of each
// image is the plain centre crop; views 1..V-1 are augmented with streams seeded per (seed, view, image),
// so a rebuilt cache holds the same pictures. Trade-offs: docs/transfer.md. This module checks the plan
// and puts the cache together from compute-features.ts (the backbone over the images), feature-store.ts
// (memory and spill files) and feature-batches.ts (batches and epochs). Must not import electron or
// anything from main/electron, main/backend, main/server, main/cli or renderer.

import { freemem } from 'node:os';
import {
  featureShapes,
  valuesPerView,
  type CachedFrozenBlocks,
  type FeatureShapes,
  type FeatureSource,
} from '../../../models/core/cached-features.js';
import { validateSpec, type ModelSpec } from '../../../models/core/spec.js';
import type { Weights } from '../../../models/core/weights.js';
import type { Device } from '../../../models/onnx/device.js';
import type { AugmentOptions } from '../datasets/augment-image.js';
import type { BatchItem, SkippedFile } from '../datasets/batch-stream.js';
import type { DecodeOptions } from '../images/decode-image.js';
import type { NormaliseOptions } from '../images/normalise.js';
import { computeFeatures } from './compute-features.js';
import { epochBatches, readFeatureBatch, streamBatches, type CachedEntries } from './feature-batches.js';
import { FeatureCacheError } from './feature-cache-error.js';
import { FeatureStore, formatGiB, type FeatureCachePrecision } from './feature-store.js';

export { FeatureCacheError } from './feature-cache-error.js';
export type { FeatureCachePrecision } from './feature-store.js';

/** The default memory budget's bounds: at least 1 GiB, at most 32 GiB. */
export const MEMORY_BUDGET_BOUNDS = { least: 1024 ** 3, most: 32 * 1024 ** 3 } as const;

/**
 * The default in-memory budget of a run's feature caches: half the memory the system has free now
 * (os.freemem, which counts reclaimable page cache on Linux), within MEMORY_BUDGET_BOUNDS. Views beyond
 * it spill to disk; the values are the same either way, only the speed of reading them back differs.
 */
export function defaultMemoryBudget(free: number = freemem()): number {
  return Math.round(Math.min(MEMORY_BUDGET_BOUNDS.most, Math.max(MEMORY_BUDGET_BOUNDS.least, free / 2)));
}

/**
 * One memory budget (default defaultMemoryBudget()) for a run's training and validation caches,
 * shared in proportion to the views each stores; the two parts add up to the budget.
 */
export function splitMemoryBudget(
  budget: number | undefined,
  stored: { train: number; val: number },
): { train: number; val: number } {
  const total = budget ?? defaultMemoryBudget();
  const train = Math.floor((total * stored.train) / Math.max(1, stored.train + stored.val));
  return { train, val: total - train };
}
export const DEFAULT_DISK_LIMIT_BYTES = 20 * 1024 ** 3;

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
  /** In-memory budget (default defaultMemoryBudget()); views beyond it go to files in `spillDir`. */
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

/** What the options ask for, checked, with the sizes the cache is laid out by. */
export interface CachePlan {
  spec: ModelSpec;
  frozenBlocks: CachedFrozenBlocks;
  views: number;
  precision: FeatureCachePrecision;
  shapes: FeatureShapes;
  /** Values of each attention input per entry (h * w * c). */
  localSizes: number[];
  /** Values per (image, view) entry. */
  perView: number;
  memoryLimit: number;
  diskLimit: number;
}

/** The plan for caching `items`; FeatureCacheError when the options are refused or the cache would not fit. */
function planFeatureCache(items: readonly BatchItem[], options: FeatureCacheOptions): CachePlan {
  const spec = validateSpec(options.spec);
  const frozenBlocks = cachedFrozenBlocks(options.frozenBlocks);
  const views = options.views ?? 1;
  if (!Number.isInteger(views) || views < 1)
    throw new FeatureCacheError(`views must be a whole number of at least 1, got ${views}.`);
  const precision = options.precision ?? 'float16';
  const perView = valuesPerView(spec, frozenBlocks);
  const memoryLimit = options.memoryLimitBytes ?? defaultMemoryBudget();
  const diskLimit = options.spillDir ? (options.diskLimitBytes ?? DEFAULT_DISK_LIMIT_BYTES) : 0;
  const plan = { spec, frozenBlocks, views, precision, perView, memoryLimit, diskLimit };
  checkFits(items.length, plan, options.spillDir);
  const shapes = featureShapes(spec, frozenBlocks);
  const localSizes = shapes.locals.map(([h, w, c]) => h * w * c);
  return { ...plan, shapes, localSizes };
}

/** Refuses a cache larger than the memory limit plus the disk limit, saying what would shrink it. */
function checkFits(
  images: number,
  plan: Pick<CachePlan, 'spec' | 'views' | 'precision' | 'perView' | 'memoryLimit' | 'diskLimit'>,
  spillDir: string | undefined,
): void {
  const { spec, views, precision, memoryLimit, diskLimit } = plan;
  const viewBytes = plan.perView * (precision === 'float16' ? 2 : 4);
  const needed = images * views * viewBytes;
  if (needed <= memoryLimit + diskLimit) return;
  throw new FeatureCacheError(
    `The cached features would take ${formatGiB(needed)} (${images} images x ${views} views x ` +
      `${(viewBytes / 1024 ** 2).toFixed(2)} MiB in ${precision} at S=${spec.inputSize}), more than the memory limit ` +
      `(${formatGiB(memoryLimit)}) plus the disk limit (${formatGiB(diskLimit)}${spillDir ? '' : ': no spill folder given'}). ` +
      `Use fewer views${precision === 'float32' ? ', float16 (half the bytes)' : ''} or a smaller input size, or raise the limits.`,
  );
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
  const plan = planFeatureCache(items, options);
  const { spec, frozenBlocks, shapes, views, precision, memoryLimit, diskLimit } = plan;
  const store = new FeatureStore({ precision, memoryLimit, spillDir: options.spillDir, diskLimit });
  const { kept, skipped } = await computeFeatures(items, plan, store, options);
  const buildMs = performance.now() - started;
  const labels = Int32Array.from(kept, (i) => items[i].classIndex);
  const entries: CachedEntries = {
    store,
    frozenBlocks,
    shapes,
    localSizes: plan.localSizes,
    count: kept.length,
    views,
    labels,
    seed: options.seed ?? 0,
    spare: [],
  };
  return {
    spec,
    frozenBlocks,
    shapes,
    count: kept.length,
    views,
    labels,
    skipped,
    stats: () => ({
      images: kept.length,
      views,
      memoryBytes: store.memoryBytes,
      diskBytes: store.diskBytes,
      buildMs,
    }),
    batch: (list) => readFeatureBatch(entries, list),
    batches: (lists) => streamBatches(entries, lists),
    epoch: (o) => epochBatches(entries, o),
    dispose: () => {
      entries.spare = [];
      return store.dispose();
    },
  };
}
