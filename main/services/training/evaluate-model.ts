// Evaluates a model on a list of images: accuracy, per-class precision/recall/F1, confusion matrix, the
// prediction for every image, and the attention maps of the misclassified ones (kept for the UI and the
// CLI in a safetensors file). One loop (evaluateWithPredictor) serves every engine: it takes a
// BatchPredictor, here the TensorFlow.js one (tfjsPredictor) and in onnx-evaluation-engine.ts the
// onnxruntime one. Given the pictures' object boxes, it also plays the pointing game on every level and
// the combined map (boxes/localisation.ts) and adds it to the report as `localisation`. Must not import electron or anything from main/electron, main/backend, main/server, main/cli or
// renderer.

import { classificationMetrics, type ClassificationMetrics } from '../../../models/core/metrics.js';
import type { TensorMap } from '../../../models/core/safetensors.js';
import type { BatchPredictor } from '../../../models/core/prediction.js';
import type { AttentionVgg } from '../../../models/tfjs/model.js';
import { tfjsPredictor } from '../../../models/tfjs/predict.js';
import { boxesOfClass } from '../boxes/find-boxes.js';
import type { LabelledBox } from '../boxes/box-types.js';
import { LocalisationTally, type LocalisationReport } from '../boxes/localisation.js';
import { boxesToInput } from '../boxes/map-box.js';
import { createBatchStream, type SkippedFile } from '../datasets/batch-stream.js';
import type { DatasetItem } from '../datasets/dataset-types.js';
import type { ResizePolicy } from '../images/decode-image.js';
import type { Rgb } from '../images/normalise.js';
import type { MapCombination } from '../heatmaps/attention-map.js';

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
  /** The pointing game on the pictures with boxes (absent when none has a box of its class). */
  localisation?: LocalisationReport;
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
  /** Object boxes by relativePath, in picture pixels as displayed (find-boxes.ts): plays the pointing game. */
  boxes?: Readonly<Record<string, readonly LabelledBox[]>>;
  /** How pictures are fitted into the input (default 'crop', as training decodes them). */
  resize?: ResizePolicy;
  /** Combined maps scored besides the default one (the bench compares them). */
  combinations?: readonly MapCombination[];
}

/**
 * Softmax probabilities of one row of logits and its cross-entropy against `label`, in float64 (shifted
 * by the largest logit so that exp never overflows).
 */
function scoreRow(logits: Float32Array, label: number): { probabilities: number[]; loss: number } {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0;
  const exps = Array.from(logits, (v) => {
    const e = Math.exp(v - max);
    sum += e;
    return e;
  });
  return { probabilities: exps.map((e) => e / sum), loss: Math.log(sum) + max - logits[label] };
}

/** The one evaluation loop: batches `items`, runs `predict` on each batch and scores the answers. */
export async function evaluateWithPredictor(
  predict: BatchPredictor,
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
  let keptMaps = 0;
  let lossSum = 0;
  const tally = options.boxes ? new LocalisationTally(options.inputSize, options.combinations) : undefined;
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
    const out = await predict(batch.x, batch.size);
    if (out.logits.length !== batch.size * k)
      throw new Error(
        `Expected ${batch.size * k} logits (${batch.size} images, ${k} classes), but the model gave ${out.logits.length}`,
      );
    for (let i = 0; i < batch.size; i++) {
      const item = byPath.get(batch.paths[i]) as DatasetItem;
      const { probabilities, loss } = scoreRow(out.logits.subarray(i * k, (i + 1) * k), item.classIndex);
      let best = 0;
      for (let c = 1; c < k; c++) if (probabilities[c] > probabilities[best]) best = c;
      lossSum += loss;
      truth.push(item.classIndex);
      predicted.push(best);
      const prediction: ImagePrediction = {
        path: item.path,
        relativePath: item.relativePath,
        label: item.label,
        predicted: options.classes[best],
        confidence: probabilities[best],
        correct: best === item.classIndex,
      };
      if (!prediction.correct && out.maps.length > 0 && keptMaps < options.keepMisclassifiedMaps) {
        keptMaps++;
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
      const boxes = tally && options.boxes?.[item.relativePath];
      if (tally && boxes && out.maps.length > 0) {
        const geometry = {
          width: item.width,
          height: item.height,
          size: options.inputSize,
          resize: options.resize,
        };
        tally.add(
          out.maps.map((m) => {
            const [, h, w] = m.shape;
            return { width: w, height: h, data: m.data.subarray(i * h * w, (i + 1) * h * w) };
          }),
          boxesToInput(boxesOfClass(boxes, item.label), geometry).map((b) => b.box),
        );
      }
    }
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
      ...(tally && tally.images > 0 ? { localisation: tally.report() } : {}),
    },
    maps,
  };
}

/** Evaluates a TensorFlow.js model (evaluateWithPredictor over tfjsPredictor). */
export function evaluateModel(
  model: AttentionVgg,
  items: readonly DatasetItem[],
  options: EvaluateOptions,
): Promise<{ report: EvaluationReport; maps: TensorMap }> {
  return evaluateWithPredictor(tfjsPredictor(model), items, options);
}
