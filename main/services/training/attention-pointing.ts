// Scores where a trained model looks on a dataset with object boxes (the generated "shapes" sample):
// the pointing game on the finest attention map (S/4) of each image. Must not import electron or
// anything from main/electron, main/server, main/cli or renderer.

import * as tf from '@tensorflow/tfjs-core';
import { AttentionVgg } from '../../../models/tfjs/model.js';
import { predictBatch } from '../../../models/train/step.js';
import { createBatchStream } from '../datasets/batch-stream.js';
import type { DatasetItem } from '../datasets/dataset-types.js';
import { pointingGame, type AttentionMap, type ObjectBox, type PointingGameResult } from '../sample/index.js';
import type { RunModel } from './load-run-model.js';

export interface PointingReport extends Omit<PointingGameResult, 'points'> {
  /** Attention level used (1 = finest, S/4). */
  level: number;
  /** Hit rate of a map peaked at a uniformly random cell, for comparison: mean box area / image area. */
  chanceRate: number;
}

/**
 * `boxes` is keyed by the items' relativePath (as in boxes.json). Images are assumed to be the size the
 * boxes refer to (imageSize x imageSize); the maps are scaled to it with the half-pixel convention.
 */
export async function attentionPointingGame(
  run: RunModel,
  items: readonly DatasetItem[],
  boxes: Record<string, ObjectBox>,
  imageSize: number,
  level = 1,
): Promise<PointingReport> {
  const { spec, config } = run.record;
  if (!spec.attention)
    throw new Error('This model has no attention maps (it was trained with attention off).');
  const withBoxes = items.filter((i) => boxes[i.relativePath]);
  const model = AttentionVgg.fromWeights(spec, run.weights);
  const maps: AttentionMap[] = [];
  const picked: ObjectBox[] = [];
  const byPath = new Map(withBoxes.map((i) => [i.path, i]));
  try {
    const stream = createBatchStream(withBoxes, {
      batchSize: 32,
      inputSize: spec.inputSize,
      shuffle: false,
      mean: config.mean,
      std: config.std,
    });
    for await (const batch of stream) {
      const x = tf.tensor4d(batch.x, [batch.size, spec.inputSize, spec.inputSize, 3]);
      const out = predictBatch(model, x);
      x.dispose();
      const m = out.maps[level - 1];
      const [, h, w] = m.shape;
      for (let i = 0; i < batch.size; i++) {
        maps.push({ data: m.data.subarray(i * h * w, (i + 1) * h * w), height: h, width: w });
        picked.push(boxes[(byPath.get(batch.paths[i]) as DatasetItem).relativePath]);
      }
    }
  } finally {
    model.dispose();
  }
  const result = pointingGame(maps, picked, { imageWidth: imageSize, imageHeight: imageSize });
  const chanceRate =
    picked.reduce((a, [x0, y0, x1, y1]) => a + ((x1 - x0) * (y1 - y0)) / (imageSize * imageSize), 0) /
    Math.max(1, picked.length);
  return { hits: result.hits, total: result.total, hitRate: result.hitRate, level, chanceRate };
}
