// One training step (forward, loss, gradients, optimiser update, BatchNorm running averages) and the
// batched evaluation forward. Imports tfjs-core and the model only.

import * as tf from '@tensorflow/tfjs-core';
import '../tfjs/gradients.js';
import type { AttentionVgg } from '../tfjs/model.js';
import type { Optimizer, StepHyper } from './optimizer.js';

/**
 * Mean softmax cross-entropy; with label smoothing e the target is (1 - e) * one-hot + e / K, as in
 * PyTorch's F.cross_entropy(label_smoothing=e).
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, labelSmoothing = 0): tf.Scalar {
  return tf.tidy(() => {
    const k = logits.shape[1];
    let target = tf.oneHot(tf.cast(labels, 'int32'), k) as tf.Tensor2D;
    if (labelSmoothing > 0)
      target = tf.add(tf.mul(target, 1 - labelSmoothing), labelSmoothing / k) as tf.Tensor2D;
    const logProbs = tf.logSoftmax(logits);
    return tf.neg(tf.mean(tf.sum(tf.mul(target, logProbs), 1))) as tf.Scalar;
  });
}

export interface TrainStepOptions {
  hyper: StepHyper;
  frozenBlocks?: number;
  labelSmoothing?: number;
}

export interface TrainStepResult {
  loss: number;
  /** Number of images in the batch whose arg-max prediction equals the label. */
  correct: number;
}

/** x: normalised NHWC batch; labels: class indices. Leaves no tensors behind. */
export function trainStep(
  model: AttentionVgg,
  optimizer: Optimizer,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  options: TrainStepOptions,
): TrainStepResult {
  const frozenBlocks = options.frozenBlocks ?? 0;
  const params = model.trainableVariables(frozenBlocks);
  const list = [...params.values()];
  const byVariable = new Map(list.map((v, i) => [v.name, [...params.keys()][i]]));
  let correct = 0;
  const { value, grads } = tf.variableGrads(() => {
    const { logits } = model.forward(x, { training: true, frozenBlocks });
    correct = tf.tidy(
      () => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(labels, 'int32')), 'int32')).dataSync()[0],
    );
    return crossEntropy(logits, labels, options.labelSmoothing ?? 0);
  }, list);
  const named = new Map<string, tf.Tensor>();
  for (const [varName, g] of Object.entries(grads)) named.set(byVariable.get(varName) as string, g);
  const loss = value.dataSync()[0];
  if (!Number.isFinite(loss)) {
    // A diverged step must not poison the weights or the running statistics.
    model.discardBatchStats();
    tf.dispose([value, ...named.values()]);
    return { loss, correct };
  }
  optimizer.apply(params, named, options.hyper);
  model.commitBatchStats();
  tf.dispose([value, ...named.values()]);
  return { loss, correct };
}

export interface Prediction {
  probabilities: Float32Array;
  /** Flattened attention maps of each level for this batch ([N, h, w] each), empty without attention. */
  maps: { shape: [number, number, number]; data: Float32Array }[];
  loss: number;
}

/** Inference-mode forward of one batch: probabilities, maps and (with labels) the mean loss. */
export function predictBatch(model: AttentionVgg, x: tf.Tensor4D, labels?: tf.Tensor1D): Prediction {
  return tf.tidy(() => {
    const { logits, maps } = model.forward(x, { training: false });
    const probabilities = tf.softmax(logits).dataSync() as Float32Array;
    const loss = labels ? crossEntropy(logits, labels).dataSync()[0] : Number.NaN;
    return {
      probabilities: Float32Array.from(probabilities),
      maps: maps.map((m) => ({
        shape: m.shape as [number, number, number],
        data: Float32Array.from(m.dataSync()),
      })),
      loss,
    };
  });
}
