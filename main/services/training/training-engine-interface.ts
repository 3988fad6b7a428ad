// What a training engine is, apart from the choice and the factory (training-engine.ts), so that the
// engines (onnx-, tfjs- and head-training-engine.ts) implement it without importing the module that
// creates them: the loop (training-run.ts) drives any engine through this interface. Types only. Must
// not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import type { TensorMap } from '../../../models/core/safetensors.js';
import type { FeaturePrecision } from '../../../models/core/cached-features.js';
import type { ModelSpec } from '../../../models/core/spec.js';
import type { Weights } from '../../../models/core/weights.js';
import type { Device } from '../../../models/onnx/device.js';
import type { OptimizerName, OptimizerState, StepHyper } from '../../../models/train/optimizer.js';
import type { DatasetItem } from '../datasets/dataset-types.js';
import type { EvaluateOptions, EvaluationReport } from './evaluate-model.js';

export type EngineName = 'tfjs' | 'onnxruntime';

export interface EngineStepResult {
  /** Mean cross-entropy of the batch before the update; not finite means nothing was updated. */
  loss: number;
  correct: number;
}

/** One batch as the batch stream yields it: `size` normalised NHWC images and their class indices. */
export interface EngineBatch {
  x: Float32Array;
  labels: Int32Array;
  size: number;
}

export interface TrainingEngine {
  readonly name: EngineName;
  /** What does the arithmetic, for run.json's `backend`: 'onnxruntime' or the TensorFlow.js backend. */
  readonly backend: string;
  /** The onnxruntime device the steps run on ('cpu' for TensorFlow.js). */
  readonly device: Device;
  step(batch: EngineBatch, hyper: StepHyper): Promise<EngineStepResult>;
  /** Weights and running statistics in PyTorch layout (copies). */
  weights(): Promise<Weights>;
  /** As models/train/optimizer.ts's Optimizer.getState(): what a checkpoint stores. */
  optimizerState(): Promise<OptimizerState>;
  /** Evaluates the current weights, or `weights` when given (the best epoch's), on `items`. */
  evaluate(
    items: readonly DatasetItem[],
    options: EvaluateOptions,
    weights?: Weights,
  ): Promise<{ report: EvaluationReport; maps: TensorMap }>;
  dispose(): Promise<void>;
}

/** What an engine starts from. */
export interface EngineSetup {
  spec: ModelSpec;
  weights: Weights;
  optimizer: { name: OptimizerName; momentum: number; weightDecay: number };
  /** Optimiser state from a checkpoint (either engine's). */
  optimizerState?: OptimizerState;
  frozenBlocks: number;
  labelSmoothing: number;
  /** onnxruntime intra-op threads, training and evaluation (default: the number of cores). */
  intraOpThreads?: number;
  /** The onnxruntime device for training and evaluation (default 'cpu'). */
  device?: Device;
  /** Test hook: the onnxruntime trainer fails at this step (1-based), as a lost device would. */
  failAtStep?: number;
  /** The precision of a cached-features run's caches (default float16), which its engine takes as it is. */
  featurePrecision?: FeaturePrecision;
}
