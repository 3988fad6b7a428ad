// Evaluates a model on a list of images: accuracy, per-class precision/recall/F1, confusion matrix, the
// prediction for every image, and the attention maps of the misclassified ones (kept for the UI and the
// CLI in a safetensors file). Must not import electron or anything from main/electron, main/server,
// main/cli or renderer.

import * as tf from '@tensorflow/tfjs-core';
import { classificationMetrics, type ClassificationMetrics } from '../../../models/core/metrics.js';
import type { TensorMap } from '../../../models/core/safetensors.js';
import type { AttentionVgg } from '../../../models/tfjs/model.js';
import { predictBatch } from '../../../models/train/step.js';
import { createBatchStream, type SkippedFile } from '../datasets/batch-stream.js';
import type { DatasetItem } from '../datasets/dataset-types.js';
import type { Rgb } from '../images/normalise.js';

export interface ImagePrediction {
  path: string;
  relativePath: string;
  label: string;
  predicted: string;
  confidence: number;
  correct: boolean;
  /** Key prefix of this image's maps in evaluation-maps.safetensors (`<key>/1..3`), when kept. */
  mapsKey?: string;
}

export interface EvaluationReport {
  format: 'attnvgg-evaluation/1';
  split: string;
  classes: string[];
  metrics: ClassificationMetrics;
  loss: number;
  predictions: ImagePrediction[];
  skipped: SkippedFile[];
  seconds: number;
}

export interface EvaluateOptions {
  classes: string[];
  split: string;
  inputSize: number;
  batchSize: number;
  mean: Rgb;
  std: Rgb;
  /** Keep the maps of at most this many misclassified images. */
  keepMisclassifiedMaps: number;
}

export async function evaluateModel(
  model: AttentionVgg,
  items: readonly DatasetItem[],
  options: EvaluateOptions,
): Promise<{ report: EvaluationReport; maps: TensorMap }> {
  const started = Date.now();
  const byPath = new Map(items.map((item) => [item.path, item]));
  const skipped: SkippedFile[] = [];
  const truth: number[] = [];
  const predicted: number[] = [];
  const predictions: ImagePrediction[] = [];
  const maps: TensorMap = new Map();
  let lossSum = 0;
  const stream = createBatchStream(items, {
    batchSize: options.batchSize,
    inputSize: options.inputSize,
    shuffle: false,
    mean: options.mean,
    std: options.std,
    onSkip: (s) => skipped.push(s),
  });
  const k = options.classes.length;
  for await (const batch of stream) {
    const x = tf.tensor4d(batch.x, [batch.size, options.inputSize, options.inputSize, 3]);
    const labels = tf.tensor1d(batch.labels, 'int32');
    const out = predictBatch(model, x, labels);
    tf.dispose([x, labels]);
    lossSum += out.loss * batch.size;
    for (let i = 0; i < batch.size; i++) {
      const probs = out.probabilities.subarray(i * k, (i + 1) * k);
      let best = 0;
      for (let c = 1; c < k; c++) if (probs[c] > probs[best]) best = c;
      const item = byPath.get(batch.paths[i]) as DatasetItem;
      truth.push(item.classIndex);
      predicted.push(best);
      const prediction: ImagePrediction = {
        path: item.path,
        relativePath: item.relativePath,
        label: item.label,
        predicted: options.classes[best],
        confidence: probs[best],
        correct: best === item.classIndex,
      };
      const kept = maps.size / 3;
      if (!prediction.correct && out.maps.length > 0 && kept < options.keepMisclassifiedMaps) {
        prediction.mapsKey = `image${predictions.length}`;
        out.maps.forEach((m, level) => {
          const [, h, w] = m.shape;
          maps.set(`${prediction.mapsKey}/${level + 1}`, {
            shape: [h, w],
            data: m.data.slice(i * h * w, (i + 1) * h * w),
          });
        });
      }
      predictions.push(prediction);
    }
  }
  const metrics = classificationMetrics(options.classes, truth, predicted);
  return {
    report: {
      format: 'attnvgg-evaluation/1',
      split: options.split,
      classes: options.classes,
      metrics,
      loss: truth.length === 0 ? Number.NaN : lossSum / truth.length,
      predictions,
      skipped,
      seconds: (Date.now() - started) / 1000,
    },
    maps,
  };
}
