// Where a training run's steps come from, one kind per path: decoded, augmented images through the
// engine (the full model, or the trainable part after frozen blocks), or the cached features of a frozen
// pretrained backbone (the heads, and block 5 with 4 frozen blocks), whose caches are built once before
// the first step. The loop (training-run.ts) drives either through the same interface: prepare, the
// steps of an epoch after those already trained, validation. Must not import electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.

import { join } from 'node:path';
import type { Weights } from '../../../models/core/weights.js';
import type { StepHyper } from '../../../models/train/optimizer.js';
import { createBatchStream, epochOrder } from '../datasets/batch-stream.js';
import { createDecodeCache } from '../datasets/decode-cache.js';
import type { DatasetItem } from '../datasets/dataset-types.js';
import { deriveSeed } from '../datasets/derive-seed.js';
import { buildFeatureCache, splitMemoryBudget, type FeatureCache } from '../transfer/feature-cache.js';
import type { EvaluateOptions } from './evaluate-model.js';
import type { HeadTrainingEngine } from './head-training-engine.js';
import type { RunSetup } from './run-setup.js';
import type { EngineStepResult } from './training-engine-interface.js';
import { featureCachePrecisionOf } from './training-config.js';
import type { TrainingControl, TrainingRunOptions } from './training-run-types.js';
import type { TrainingEventListener } from './training-events.js';

/** One step of the loop: its batch size, and the engine call that trains on it. */
export interface LoopStep {
  size: number;
  run(hyper: StepHyper): Promise<EngineStepResult>;
}

export interface StepSource {
  /** Work before the first step. 'stopped': a pause or cancel came during it (nothing trained). */
  prepare(): Promise<'ready' | 'stopped'>;
  /** The steps of `epoch`, without the first `skipSteps` (already trained before a pause). */
  steps(epoch: number, skipSteps: number): AsyncGenerator<LoopStep>;
  /** The validation loss and accuracy of the engine's current weights. */
  validate(): Promise<{ loss: number; accuracy: number }>;
  dispose(): Promise<void>;
}

export interface StepSourceContext {
  emit: TrainingEventListener;
  control: TrainingControl;
  options: TrainingRunOptions;
  /** Evaluation settings (classes, size, batch, normalisation). */
  evalOptions: Omit<EvaluateOptions, 'split' | 'keepMisclassifiedMaps'>;
}

/** Steps on decoded images, in the run's seeded order, augmented; validation through the engine. */
export function imageStepSource(run: RunSetup, ctx: StepSourceContext): StepSource {
  const { config, train, val, engine } = run;
  const cache = createDecodeCache({ maxBytes: ctx.options.decodeCacheBytes ?? 512 * 1024 * 1024 });
  return {
    prepare: async () => 'ready',
    async *steps(epoch, skipSteps) {
      const order = epochOrder(train.length, { seed: config.seed, epoch });
      const items = order.slice(skipSteps * config.batchSize).map((i) => train[i]);
      const stream = createBatchStream(items, {
        batchSize: config.batchSize,
        inputSize: config.inputSize,
        shuffle: false,
        seed: deriveSeed(config.seed, 'epoch'),
        epoch,
        augment: config.augment,
        mean: config.mean,
        std: config.std,
        cache,
        onSkip: (s) =>
          ctx.emit({ type: 'skipped-file', path: s.path, reason: s.error.reason, message: s.error.message }),
      });
      for await (const batch of stream)
        yield { size: batch.size, run: (hyper: StepHyper) => engine.step(batch, hyper) };
    },
    validate: async () => {
      const { report } = await engine.evaluate(val.length > 0 ? val : train, {
        ...ctx.evalOptions,
        split: 'val',
        keepMisclassifiedMaps: 0,
      });
      return { loss: report.loss, accuracy: report.metrics.accuracy };
    },
    dispose: async () => undefined,
  };
}

/**
 * Steps on the cached features of the frozen blocks (computed once per image and view, rebuilt
 * identically on resume, with 'caching' progress); validation on the validation images' cache.
 */
export function cachedStepSource(
  run: RunSetup,
  heads: HeadTrainingEngine,
  ctx: StepSourceContext,
): StepSource {
  const { config, train, val, spec } = run;
  const caches: { train: FeatureCache | null; val: FeatureCache | null } = { train: null, val: null };
  const backbone: Weights = new Map([...run.weights].filter(([name]) => name.startsWith('features.')));
  // Without augmentation every view would be the plain picture: one is enough.
  const trainViews = config.augment === false ? 1 : (config.cachedViews ?? 1);
  const precision = featureCachePrecisionOf(config);

  const build = (
    items: readonly DatasetItem[],
    split: 'train' | 'val',
    views: number,
    abort: AbortController,
  ) => {
    const budgets = splitMemoryBudget(config.featureCacheMemoryBytes, {
      train: train.length * trainViews,
      val: val.length,
    });
    let last = 0;
    return buildFeatureCache(items, {
      spec,
      backbone,
      frozenBlocks: config.freezeBlocks,
      views,
      precision,
      augment: config.augment || undefined,
      seed: config.seed,
      mean: config.mean,
      std: config.std,
      memoryLimitBytes: budgets[split],
      spillDir: join(ctx.options.runDir, 'feature-cache'),
      threads: ctx.options.onnxThreads,
      device: run.resolution.device,
      signal: abort.signal,
      onProgress: ({ done, total }) => {
        if (ctx.control.stopRequested) abort.abort();
        const now = performance.now();
        if (done === total || done === 0 || now - last >= 500) {
          last = now;
          ctx.emit({ type: 'caching', split, done, total, precision });
        }
      },
      onSkip: (s) =>
        ctx.emit({ type: 'skipped-file', path: s.path, reason: s.error.reason, message: s.error.message }),
    });
  };

  return {
    async prepare() {
      const abort = new AbortController();
      try {
        ctx.emit({ type: 'caching', split: 'train', done: 0, total: train.length, precision });
        caches.train = await build(train, 'train', trainViews, abort);
        if (val.length > 0) {
          ctx.emit({ type: 'caching', split: 'val', done: 0, total: val.length, precision });
          caches.val = await build(val, 'val', 1, abort);
        }
        return 'ready';
      } catch (error) {
        if (!ctx.control.stopRequested) throw error;
        return 'stopped';
      }
    },
    async *steps(epoch, skipSteps) {
      const cache = caches.train as FeatureCache;
      let index = 0;
      for await (const batch of cache.epoch({ epoch, batchSize: config.batchSize, seed: config.seed })) {
        if (index++ < skipSteps) continue;
        yield { size: batch.size, run: (hyper: StepHyper) => heads.stepCached(batch, hyper) };
      }
    },
    validate: () => heads.validateCached(caches.val ?? (caches.train as FeatureCache)),
    async dispose() {
      await Promise.all([caches.train?.dispose(), caches.val?.dispose()]);
    },
  };
}
