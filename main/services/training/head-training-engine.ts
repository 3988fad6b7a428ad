// The training engine of a run on cached backbone features: a pretrained backbone with blocks 1..5 frozen
// (freezeBlocks 5, the "quick" preset) or 1..4 (freezeBlocks 4, the "balanced" preset). The frozen blocks'
// outputs are computed once per image into feature caches (main/services/transfer/feature-cache.ts) and
// the rest trains on the cached tensors: the heads, and block 5 with 4 frozen blocks, with the same loss,
// gradients, update and BatchNorm averages as the full model with the same frozen blocks. The engine is
// the one chosen for the run (training-engine.ts): onnxruntime (models/onnx-train's graph on features,
// on the run's device) or TensorFlow.js (models/tfjs/head-trainer.ts's trainHeadStep). Besides the TrainingEngine seam (weights, optimiser state and
// evaluation of the full model, so checkpoints, best weights and the final evaluation go through the
// loop's usual code) it offers the cached steps and the cached validation the loop uses on this path.
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import type { Weights } from '../../../models/core/weights.js';
import type { StepHyper } from '../../../models/train/optimizer.js';
import {
  viewZeroBatches,
  type CachedFrozenBlocks,
  type FeatureBatch,
  type FeatureSource,
} from '../../../models/core/cached-features.js';
import { CACHED_FROZEN_BLOCKS } from '../../../models/core/cached-features.js';
import { evaluateHead, trainHeadStep, type HeadEvaluation } from '../../../models/tfjs/head-trainer.js';
import { evaluateOnOnnxruntime } from './onnx-evaluation-engine.js';
import { onnxTrainerEngine, openOnnxTrainer } from './onnx-training-engine.js';
import { createTfjsTrainingEngine } from './tfjs-training-engine.js';
import { openChosenEngine, type EngineChoice } from './training-engine.js';
import type {
  EngineName,
  EngineSetup,
  EngineStepResult,
  TrainingEngine,
} from './training-engine-interface.js';

export interface HeadTrainingEngine extends TrainingEngine {
  /** The frozen blocks whose outputs are cached (the run's freezeBlocks). */
  readonly frozenBlocks: CachedFrozenBlocks;
  /** Why this path trains, for run.json's engineReasons. */
  readonly reason: string;
  /** One step of the heads (and block 5 with 4 frozen blocks) on a batch of cached features. */
  stepCached(batch: FeatureBatch, hyper: StepHyper): Promise<EngineStepResult>;
  /** Mean loss and accuracy of the current weights over a cache (view 0 of every image). */
  validateCached(cache: FeatureSource): Promise<HeadEvaluation>;
}

function isCachedFrozenBlocks(k: number): k is CachedFrozenBlocks {
  return (CACHED_FROZEN_BLOCKS as readonly number[]).includes(k);
}

/** True when a run trains on cached backbone features: a pretrained backbone with 4 or 5 frozen blocks. */
export function usesFeatureCache(config: { backbone?: string | null; freezeBlocks: number }): boolean {
  return (
    typeof config.backbone === 'string' && config.backbone !== '' && isCachedFrozenBlocks(config.freezeBlocks)
  );
}

/** The engine reason of the cached path, in words a user can act on. */
export function featureCacheReason(frozenBlocks: CachedFrozenBlocks, engine: EngineName): string {
  const on = engine === 'onnxruntime' ? 'onnxruntime' : 'TensorFlow.js';
  return frozenBlocks === 5
    ? `the whole pretrained backbone is frozen: its features are computed once on onnxruntime and the heads train on ${on}`
    : `pretrained blocks 1-4 are frozen: their outputs (conv 7 and conv 10) are computed once on onnxruntime and block 5 and the heads train on ${on}`;
}

function checkedFrozenBlocks(setup: EngineSetup): CachedFrozenBlocks {
  const frozenBlocks = setup.frozenBlocks;
  if (!isCachedFrozenBlocks(frozenBlocks))
    throw new Error(`The cached-features engine needs blocks 1..4 or 1..5 frozen, got ${frozenBlocks}.`);
  return frozenBlocks;
}

function checkCache(batch: FeatureBatch, frozenBlocks: CachedFrozenBlocks): void {
  if (batch.frozenBlocks !== frozenBlocks)
    throw new Error(
      `A cache of ${batch.frozenBlocks} frozen blocks was given to a run with ${frozenBlocks} frozen blocks.`,
    );
}

/** The cached-features engine on TensorFlow.js (models/tfjs/head-trainer.ts), evaluating the full model on onnxruntime. */
export function createTfjsHeadTrainingEngine(setup: EngineSetup, backend: string): HeadTrainingEngine {
  const frozenBlocks = checkedFrozenBlocks(setup);
  const base = createTfjsTrainingEngine(setup, backend);
  const { model, optimizer } = base;
  return {
    // Images instead of cached features (not used by the loop on this path): the full model, frozen.
    ...base,
    frozenBlocks,
    reason: featureCacheReason(frozenBlocks, 'tfjs'),
    stepCached: async (batch, hyper) => {
      checkCache(batch, frozenBlocks);
      return trainHeadStep(model, optimizer, batch, { hyper, labelSmoothing: setup.labelSmoothing });
    },
    validateCached: (cache) => evaluateHead(model, cache),
    // The full model on onnxruntime, as the onnxruntime engine evaluates (the final evaluation needs
    // maps and every prediction, which the cached path does not compute).
    async evaluate(items, options, weights?: Weights) {
      return evaluateOnOnnxruntime(
        setup.spec,
        weights ?? (await model.toWeights()),
        items,
        options,
        setup.intraOpThreads,
        setup.device,
      );
    },
  };
}

/**
 * The cached-features engine on onnxruntime: models/onnx-train's graph on cached features (the same
 * layers as the full step, from block 5 or from the heads), on the run's device; validation through the
 * same graph in inference mode.
 */
export async function createOnnxHeadTrainingEngine(setup: EngineSetup): Promise<HeadTrainingEngine> {
  const frozenBlocks = checkedFrozenBlocks(setup);
  const trainer = await openOnnxTrainer(setup, 'features');
  return {
    ...onnxTrainerEngine(trainer, setup),
    frozenBlocks,
    reason: featureCacheReason(frozenBlocks, 'onnxruntime'),
    stepCached: async (batch, hyper) => {
      checkCache(batch, frozenBlocks);
      return trainer.stepFeatures(batch, batch.labels, hyper);
    },
    validateCached: async (cache) => {
      let loss = 0;
      let correct = 0;
      for await (const batch of viewZeroBatches(cache, VALIDATION_BATCH)) {
        const r = await trainer.evaluateFeatures(batch, batch.labels);
        loss += r.loss * batch.size;
        correct += r.correct;
      }
      const count = Math.max(1, cache.count);
      return { loss: loss / count, accuracy: correct / count, count: cache.count };
    },
  };
}

/** Images per validation batch on cached features. */
const VALIDATION_BATCH = 64;

/**
 * Opens the cached-features engine the choice names (training-engine.ts's chooseTrainingEngine), with the
 * same fallbacks as the full model's engines (openChosenEngine).
 */
export async function createHeadTrainingEngine(
  choice: EngineChoice,
  setup: EngineSetup,
): Promise<HeadTrainingEngine> {
  checkedFrozenBlocks(setup);
  return openChosenEngine<HeadTrainingEngine>(choice, setup, {
    onnxruntime: createOnnxHeadTrainingEngine,
    tfjs: async (s, backend) => createTfjsHeadTrainingEngine(s, backend),
  });
}
