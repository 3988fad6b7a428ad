// TensorFlow.js inference and training steps on plain arrays (normalised NHWC images as the batch stream
// yields them, class indices), for callers that hold no tensors: the services call these and never
// import TensorFlow.js themselves. Each leaves no tensor behind.

import * as tf from '@tensorflow/tfjs-core';
import type { BatchPredictor } from '../core/prediction.js';
import type { Optimizer } from '../train/optimizer.js';
import {
  predictBatch,
  trainStep,
  type Prediction,
  type TrainStepOptions,
  type TrainStepResult,
} from '../train/step.js';
import type { AttentionVgg } from './model.js';

/** `n` images as a tensor of the model's input size (caller disposes). */
function images(model: AttentionVgg, x: Float32Array, n: number): tf.Tensor4D {
  const s = model.spec.inputSize;
  return tf.tensor4d(x, [n, s, s, 3]);
}

/** Inference-mode probabilities and maps of `n` images (predictBatch on arrays). */
export function predictArrays(model: AttentionVgg, x: Float32Array, n: number): Prediction {
  const input = images(model, x, n);
  try {
    return predictBatch(model, input);
  } finally {
    input.dispose();
  }
}

/** The TensorFlow.js predictor: inference-mode logits and maps of `model`. */
export function tfjsPredictor(model: AttentionVgg): BatchPredictor {
  return async (x, n) =>
    tf.tidy(() => {
      const { logits, maps } = model.forward(images(model, x, n), { training: false });
      return {
        logits: Float32Array.from(logits.dataSync()),
        maps: maps.map((m) => ({
          shape: m.shape as [number, number, number],
          data: Float32Array.from(m.dataSync()),
        })),
      };
    });
}

/** One training step (trainStep) on `labels.length` images. */
export function trainStepOnArrays(
  model: AttentionVgg,
  optimizer: Optimizer,
  x: Float32Array,
  labels: Int32Array,
  options: TrainStepOptions,
): TrainStepResult {
  const input = images(model, x, labels.length);
  const y = tf.tensor1d(labels, 'int32');
  try {
    return trainStep(model, optimizer, input, y, options);
  } finally {
    tf.dispose([input, y]);
  }
}
