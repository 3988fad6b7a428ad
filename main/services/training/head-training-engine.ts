// The training engine of a run on cached backbone features: a pretrained backbone with blocks 1..5 frozen
// (freezeBlocks 5, the "quick" preset) or 1..4 (freezeBlocks 4, the "balanced" preset). The frozen blocks'
// outputs are computed once per image into feature caches (main/services/transfer/feature-cache.ts) and
// the rest trains in TensorFlow.js on the cached tensors: the heads, and block 5 with 4 frozen blocks
// (head-trainer.ts's trainHeadStep: the same loss, gradients, update and BatchNorm averages as the full
// model with the same frozen blocks). Besides the TrainingEngine seam (weights, optimiser state and
// evaluation of the full model, so checkpoints, best weights and the final evaluation go through the
// loop's usual code) it offers the cached steps and the cached validation the loop uses on this path.
// Must not import electron or anything from main/electron, main/server, main/cli or renderer.

import * as tf from '@tensorflow/tfjs-core';
import type { Weights } from '../../../models/core/weights.js';
import type { StepHyper } from '../../../models/train/optimizer.js';
import type { CachedFrozenBlocks, FeatureBatch, FeatureCache } from '../transfer/feature-cache.js';
import {
  CACHED_FROZEN_BLOCKS,
  evaluateHead,
  trainHeadStep,
  type HeadEvaluation,
} from '../transfer/head-trainer.js';
import { evaluateOnOnnxruntime } from './onnx-evaluation-engine.js';
import { createTfjsTrainingEngine } from './tfjs-training-engine.js';
import type { EngineSetup, EngineStepResult, TrainingEngine } from './training-engine-interface.js';

export interface HeadTrainingEngine extends TrainingEngine {
  /** The frozen blocks whose outputs are cached (the run's freezeBlocks). */
  readonly frozenBlocks: CachedFrozenBlocks;
  /** Why this path trains, for run.json's engineReasons. */
  readonly reason: string;
  /** One step of the heads (and block 5 with 4 frozen blocks) on a batch of cached features. */
  stepCached(batch: FeatureBatch, hyper: StepHyper): EngineStepResult;
  /** Mean loss and accuracy of the current weights over a cache (view 0 of every image). */
  validateCached(cache: FeatureCache): Promise<HeadEvaluation>;
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
export function featureCacheReason(frozenBlocks: CachedFrozenBlocks): string {
  return frozenBlocks === 5
    ? 'the whole pretrained backbone is frozen: its features are computed once on onnxruntime and the heads train in TensorFlow.js on them'
    : 'pretrained blocks 1-4 are frozen: their outputs (conv 7 and conv 10) are computed once on onnxruntime and block 5 and the heads train in TensorFlow.js on them';
}

export function createHeadTrainingEngine(setup: EngineSetup): HeadTrainingEngine {
  const frozenBlocks = setup.frozenBlocks;
  if (!isCachedFrozenBlocks(frozenBlocks))
    throw new Error(`The cached-features engine needs blocks 1..4 or 1..5 frozen, got ${frozenBlocks}.`);
  const base = createTfjsTrainingEngine(setup, tf.getBackend());
  const { model, optimizer } = base;
  return {
    // Images instead of cached features (not used by the loop on this path): the full model, frozen.
    ...base,
    frozenBlocks,
    reason: featureCacheReason(frozenBlocks),
    stepCached: (batch, hyper) => {
      if (batch.frozenBlocks !== frozenBlocks)
        throw new Error(
          `A cache of ${batch.frozenBlocks} frozen blocks was given to a run with ${frozenBlocks} frozen blocks.`,
        );
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
