// What an ONNX trainer checks and feeds besides its state: the optimiser settings, each step's
// hyper-parameters (Adam's bias corrections computed here in float64), the labels, and a batch of cached
// features against the graph's feature inputs. Imports models/ and onnxruntime (through
// train-session.ts) only.

import { asFloat32, type FeatureTensor } from '../core/cached-features.js';
import type { OptimizerConfig, StepHyper } from '../train/optimizer.js';
import { ADAM_DEFAULTS } from './adam.js';
import { OnnxTrainError } from './errors.js';
import { GRAPH_OPTIMIZERS, TRAIN_IO, type TrainingGraph } from './train-graph.js';
import { float16Tensor, float32Tensor, type RuntimeTensor } from './train-session.js';

export const DEFAULT_OPTIMIZER: OptimizerConfig = { name: 'sgd', momentum: 0.9 };

export function checkOptimizer(config: OptimizerConfig): void {
  if (!GRAPH_OPTIMIZERS.includes(config.name))
    throw new OnnxTrainError(
      'unsupported',
      `The ONNX training engine has no graph for the optimizer "${String(config.name)}"; use the TensorFlow.js engine for it. Should be one of: ${GRAPH_OPTIMIZERS.join(', ')}.`,
    );
  const wd = config.weightDecay ?? 0;
  if (!Number.isFinite(wd) || wd < 0)
    throw new OnnxTrainError('invalid', `weightDecay must be a finite number of at least 0, got ${wd}.`);
}

export function checkedHyper(config: OptimizerConfig, hyper: StepHyper): { lr: number; momentum: number } {
  // Adam ignores momentum (as the TensorFlow.js optimiser): the schedule's cycled value is not checked.
  const momentum = config.name === 'sgd' ? (hyper.momentum ?? config.momentum ?? 0.9) : 0;
  if (!Number.isFinite(hyper.lr))
    throw new OnnxTrainError('invalid', `lr must be a finite number, got ${hyper.lr}.`);
  if (!Number.isFinite(momentum) || momentum < 0)
    throw new OnnxTrainError('invalid', `momentum must be a finite number of at least 0, got ${momentum}.`);
  return { lr: hyper.lr, momentum };
}

/**
 * Every scalar hyper-parameter input a training graph may declare, for the step numbered `t` (1-based).
 * Adam's bias corrections and AdamW's decay factor are computed here in float64, as the TensorFlow.js
 * optimiser computes them, and rounded to float32 once when fed.
 */
export function hyperValuesFor(
  config: OptimizerConfig,
  labelSmoothing: number,
): (lr: number, momentum: number, t: number) => Record<string, number> {
  const wd = config.weightDecay ?? 0;
  const b1 = config.beta1 ?? ADAM_DEFAULTS.beta1;
  const b2 = config.beta2 ?? ADAM_DEFAULTS.beta2;
  return (lr, momentum, t) => ({
    [TRAIN_IO.lr]: lr,
    [TRAIN_IO.momentum]: momentum,
    [TRAIN_IO.weightDecay]: wd,
    [TRAIN_IO.labelSmoothing]: labelSmoothing,
    [TRAIN_IO.stepSize]: lr / (1 - b1 ** t),
    [TRAIN_IO.biasCorrection2Sqrt]: Math.sqrt(1 - b2 ** t),
    [TRAIN_IO.decayFactor]: 1 - lr * wd,
  });
}

export function scalar(value: number): RuntimeTensor {
  return float32Tensor(new Float32Array([value]), []);
}

/** The labels as float32 class indices, checked against the number of classes. */
export function checkedLabels(labels: ArrayLike<number>, numClasses: number): Float32Array {
  const n = labels.length;
  if (n < 1) throw new OnnxTrainError('invalid', 'A training batch needs at least 1 image, got 0 labels.');
  const labelData = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const k = labels[i];
    if (!Number.isInteger(k) || k < 0 || k >= numClasses)
      throw new OnnxTrainError(
        'invalid',
        `Label ${i} is ${k}; expected a class index from 0 to ${numClasses - 1}.`,
      );
    labelData[i] = k;
  }
  return labelData;
}

/** A batch of `n` images' cached features as graph inputs, checked against the graph's feature inputs. */
export function featureTensors(
  graph: TrainingGraph,
  features: { locals: readonly FeatureTensor[]; pool5?: FeatureTensor },
  n: number,
): Record<string, RuntimeTensor> {
  if (graph.source !== 'features')
    throw new OnnxTrainError('invalid', 'This trainer steps on images: call step().');
  const given = [...features.locals, ...(features.pool5 ? [features.pool5] : [])];
  if (given.length !== graph.featureInputs.length)
    throw new OnnxTrainError(
      'invalid',
      `A batch of ${graph.frozenBlocks} frozen blocks' features has ${graph.featureInputs.length} tensors (${graph.featureInputs.map((f) => f.name).join(', ')}), got ${given.length}.`,
    );
  const out: Record<string, RuntimeTensor> = {};
  graph.featureInputs.forEach((f, k) => {
    const a = given[k];
    const shape = [n, ...f.shape];
    const values = shape.reduce((x, y) => x * y, 1);
    if (a.shape.join('x') !== shape.join('x') || a.data.length !== values)
      throw new OnnxTrainError(
        'invalid',
        `${f.name}: expected shape [${shape.join(', ')}], got [${a.shape.join(', ')}] (${a.data.length} values).`,
      );
    out[f.name] = typedFeature(graph, f.name, a, shape);
  });
  return out;
}

/** A cached tensor in the graph's feature type: half-precision bits as they are, or float32 values. */
function typedFeature(graph: TrainingGraph, name: string, a: FeatureTensor, shape: number[]): RuntimeTensor {
  if (graph.featureType === 'float32') return float32Tensor(asFloat32(a).data, shape);
  if (a.data instanceof Uint16Array) return float16Tensor(a.data, shape);
  throw new OnnxTrainError(
    'invalid',
    `${name}: this trainer takes half-precision features (a float16 cache's batches), got float32 values.`,
  );
}
