// Evaluation of a run's weights on onnxruntime: the weights are exported with models/onnx/export.ts (the
// same graph `attnvgg export` writes) and run batch by batch through models/onnx/session.ts, producing the
// same EvaluationReport and misclassified-image maps as evaluate-model.ts does on TensorFlow.js. Used by
// the onnxruntime training engine, so that a run on it needs no TensorFlow.js backend: measured at S=64,
// batch 32 (2 cores, load 5), one batch took 40-110 ms here against 120-160 ms on tfjs-wasm at width
// 0.125 and 120-250 ms against 370 ms at width 0.25; export and session opening add 0.2 s per evaluation.
// Must not import electron or anything from main/electron, main/server, main/cli or renderer.

import { classificationMetrics } from '../../../models/core/metrics.js';
import type { TensorMap } from '../../../models/core/safetensors.js';
import type { ModelSpec } from '../../../models/core/spec.js';
import type { Weights } from '../../../models/core/weights.js';
import { exportOnnx } from '../../../models/onnx/export.js';
import { openOnnxSession } from '../../../models/onnx/session.js';
import { createBatchStream, type SkippedFile } from '../datasets/batch-stream.js';
import type { DatasetItem } from '../datasets/dataset-types.js';
import type { EvaluateOptions, EvaluationReport, ImagePrediction } from './evaluate-model.js';

/** NHWC (the batch stream's layout) to NCHW (the exported model's input). */
export function nhwcToNchw(x: Float32Array, n: number, side: number): Float32Array {
  const out = new Float32Array(x.length);
  const plane = side * side;
  for (let b = 0; b < n; b++)
    for (let p = 0; p < plane; p++)
      for (let c = 0; c < 3; c++) out[(b * 3 + c) * plane + p] = x[(b * plane + p) * 3 + c];
  return out;
}

/** -log softmax(logits)[label], in float64 (log-sum-exp shifted by the largest logit). */
function crossEntropyOf(logits: Float32Array, label: number): number {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  return Math.log(sum) + max - logits[label];
}

export async function evaluateOnOnnxruntime(
  spec: ModelSpec,
  weights: Weights,
  items: readonly DatasetItem[],
  options: EvaluateOptions,
  intraOpThreads?: number,
): Promise<{ report: EvaluationReport; maps: TensorMap }> {
  const started = Date.now();
  const session = await openOnnxSession(exportOnnx(spec, weights), { intraOpThreads });
  const mapNames = spec.attention ? ['attention_1', 'attention_2', 'attention_3'] : [];
  const byPath = new Map(items.map((item) => [item.path, item]));
  const skipped: SkippedFile[] = [];
  const truth: number[] = [];
  const predicted: number[] = [];
  const predictions: ImagePrediction[] = [];
  const maps: TensorMap = new Map();
  let lossSum = 0;
  const k = options.classes.length;
  const s = options.inputSize;
  try {
    const stream = createBatchStream(items, {
      batchSize: options.batchSize,
      inputSize: s,
      shuffle: false,
      mean: options.mean,
      std: options.std,
      onSkip: (skip) => skipped.push(skip),
    });
    for await (const batch of stream) {
      const out = await session.run(
        { shape: [batch.size, 3, s, s], data: nhwcToNchw(batch.x, batch.size, s) },
        { outputs: ['logits', 'probabilities', ...mapNames] },
      );
      for (let i = 0; i < batch.size; i++) {
        const probs = out.probabilities.data.subarray(i * k, (i + 1) * k);
        let best = 0;
        for (let c = 1; c < k; c++) if (probs[c] > probs[best]) best = c;
        const item = byPath.get(batch.paths[i]) as DatasetItem;
        lossSum += crossEntropyOf(out.logits.data.subarray(i * k, (i + 1) * k), item.classIndex);
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
        if (!prediction.correct && mapNames.length > 0 && kept < options.keepMisclassifiedMaps) {
          prediction.mapsKey = `image${predictions.length}`;
          mapNames.forEach((name, level) => {
            const [, h, w] = out[name].shape;
            maps.set(`${prediction.mapsKey}/${level + 1}`, {
              shape: [h, w],
              data: out[name].data.slice(i * h * w, (i + 1) * h * w),
            });
          });
        }
        predictions.push(prediction);
      }
    }
  } finally {
    await session.release();
  }
  return {
    report: {
      format: 'attnvgg-evaluation/1',
      split: options.split,
      classes: options.classes,
      metrics: classificationMetrics(options.classes, truth, predicted),
      loss: truth.length === 0 ? Number.NaN : lossSum / truth.length,
      predictions,
      skipped,
      seconds: (Date.now() - started) / 1000,
    },
    maps,
  };
}
