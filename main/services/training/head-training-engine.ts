// The training engine of a run whose whole backbone is frozen (freezeBlocks 5, the "quick" preset with a
// pretrained backbone): the backbone's outputs are computed once per image into feature caches
// (main/services/transfer/feature-cache.ts) and only the heads train, in TensorFlow.js, on the cached
// tensors (head-trainer.ts's trainHeadStep: the same loss, gradients and update as the full model with
// freezeBlocks 5). Besides the TrainingEngine seam (weights, optimiser state and evaluation of the full
// model, so checkpoints, best weights and the final evaluation go through the loop's usual code) it
// offers the cached steps and the cached validation the loop uses on this path. Must not import
// electron or anything from main/electron, main/server, main/cli or renderer.

import * as tf from '@tensorflow/tfjs-core';
import type { Weights } from '../../../models/core/weights.js';
import type { StepHyper } from '../../../models/train/optimizer.js';
import type { FeatureBatch, FeatureCache } from '../transfer/feature-cache.js';
import {
  evaluateHead,
  HEAD_FROZEN_BLOCKS,
  trainHeadStep,
  type HeadEvaluation,
} from '../transfer/head-trainer.js';
import { evaluateOnOnnxruntime } from './onnx-evaluation-engine.js';
import { createTfjsTrainingEngine } from './tfjs-training-engine.js';
import type { EngineSetup, EngineStepResult, TrainingEngine } from './training-engine.js';

export interface HeadTrainingEngine extends TrainingEngine {
  /** One step of the heads on a batch of cached features. */
  stepCached(batch: FeatureBatch, hyper: StepHyper): EngineStepResult;
  /** Mean loss and accuracy of the current heads over a cache (view 0 of every image). */
  validateCached(cache: FeatureCache): Promise<HeadEvaluation>;
}

/** True when a run trains on cached backbone features. */
export function usesFeatureCache(config: { backbone?: string | null; freezeBlocks: number }): boolean {
  return typeof config.backbone === 'string' && config.backbone !== '' && config.freezeBlocks === 5;
}

export function createHeadTrainingEngine(setup: EngineSetup): HeadTrainingEngine {
  if (setup.frozenBlocks !== HEAD_FROZEN_BLOCKS)
    throw new Error(`The cached-features engine needs all 5 blocks frozen, got ${setup.frozenBlocks}.`);
  const base = createTfjsTrainingEngine(setup, tf.getBackend());
  const { model, optimizer } = base;
  return {
    // Images instead of cached features (not used by the loop on this path): the full model, frozen.
    ...base,
    stepCached: (batch, hyper) =>
      trainHeadStep(model, optimizer, batch, { hyper, labelSmoothing: setup.labelSmoothing }),
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
      );
    },
  };
}
