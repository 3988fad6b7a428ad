// The one evaluation loop (evaluate-model.ts's evaluateWithPredictor): scores what a predictor returns
// (softmax confidence, mean cross-entropy, kept maps of misclassified images), refuses a predictor that
// answers for the wrong number of images, and gives the same report on TensorFlow.js and onnxruntime
// for the same weights. The TensorFlow.js predictor leaves no tensor behind.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createRandom } from '../../../models/core/random.js';
import { validateSpec } from '../../../models/core/spec.js';
import { initWeights } from '../../../models/core/weights.js';
import { AttentionVgg } from '../../../models/tfjs/model.js';
import type { DatasetItem } from '../../../main/services/datasets/dataset-types.js';
import { scanDataset } from '../../../main/services/datasets/scan-dataset.js';
import { generateShapesDataset } from '../../../main/services/sample/index.js';
import type { BatchPredictor } from '../../../models/core/prediction.js';
import {
  evaluateModel,
  evaluateWithPredictor,
  type EvaluateOptions,
} from '../../../main/services/training/evaluate-model.js';
import { evaluateOnOnnxruntime } from '../../../main/services/training/onnx-evaluation-engine.js';
import { useCpuBackend } from '../../helpers/tf.js';

let dir = '';
let items: DatasetItem[] = [];
const classes = ['circle', 'square'];
const options: EvaluateOptions = {
  classes,
  split: 'test',
  inputSize: 32,
  batchSize: 3,
  mean: [0.5, 0.5, 0.5],
  std: [0.25, 0.25, 0.25],
  keepMisclassifiedMaps: 2,
};

before(async () => {
  await useCpuBackend();
  dir = await mkdtemp(join(tmpdir(), 'attnvgg-evaluate-'));
  await generateShapesDataset(dir, { classes: 2, size: 32, counts: { train: 4, val: 0, test: 0 }, seed: 1 });
  const scan = await scanDataset(dir, { valFraction: 0, seed: 0 });
  assert.deepEqual(
    scan.classes.map((c) => c.name),
    classes,
  );
  items = scan.items;
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('scores logits: softmax confidence, mean cross-entropy, maps of misclassified images only', async () => {
  // Every image gets logits [0, ln 3]: p(class 1) = 3/4, so class-1 images are right with loss -ln(3/4)
  // and class-0 images wrong with loss -ln(1/4); each image's maps are filled with its index in the batch.
  const predict: BatchPredictor = async (_x, n) => ({
    logits: Float32Array.from({ length: 2 * n }, (_, i) => (i % 2 === 1 ? Math.log(3) : 0)),
    maps: [{ shape: [n, 2, 2], data: Float32Array.from({ length: 4 * n }, (_, i) => Math.floor(i / 4)) }],
  });
  const { report, maps } = await evaluateWithPredictor(predict, items, options);
  const ones = items.filter((i) => i.classIndex === 1).length;
  const zeros = items.length - ones;
  assert.ok(ones > 0 && zeros > 0);
  assert.equal(report.metrics.total, items.length);
  assert.ok(Math.abs(report.metrics.accuracy - ones / items.length) < 1e-12);
  const loss = (ones * -Math.log(0.75) + zeros * -Math.log(0.25)) / items.length;
  assert.ok(Math.abs(report.loss - loss) < 1e-6, `${report.loss} vs ${loss}`);
  for (const p of report.predictions) {
    assert.equal(p.predicted, 'square');
    assert.ok(Math.abs(p.confidence - 0.75) < 1e-6);
    if (p.correct) assert.equal(p.mapsKey, undefined);
  }
  const kept = report.predictions.filter((p) => p.mapsKey !== undefined);
  assert.equal(kept.length, Math.min(2, zeros));
  assert.equal(maps.size, kept.length);
  for (const p of kept) {
    const map = maps.get(`${p.mapsKey}/1`);
    assert.deepEqual(map?.shape, [2, 2]);
    // The map of image k of the whole list is the one at position k % batchSize of its batch.
    const k = report.predictions.indexOf(p);
    assert.deepEqual(Array.from(map?.data ?? []), [0, 0, 0, 0].fill(k % options.batchSize));
  }
});

test('with boxes, plays the pointing game per level and on the combined map, boxes of the own class only', async () => {
  // Level 1 (2 x 2) peaks top-left (cell centre 8, 8 of the 32 x 32 input), level 2 (1 x 2) on the right.
  const predict: BatchPredictor = async (_x, n) => ({
    logits: new Float32Array(2 * n),
    maps: [
      { shape: [n, 2, 2], data: Float32Array.from({ length: 4 * n }, (_, i) => (i % 4 === 0 ? 0.7 : 0.1)) },
      { shape: [n, 1, 2], data: Float32Array.from({ length: 2 * n }, (_, i) => (i % 2 === 1 ? 0.9 : 0.1)) },
    ],
  });
  const [a, b, c, d] = items;
  const boxes = {
    // Own class, top-left quadrant: level 1 hits, level 2 (peak at 24, 16) misses.
    [a.relativePath]: [{ box: [0, 0, 16, 16] as const, label: a.label }],
    // Only a box of another class: not scored.
    [b.relativePath]: [{ box: [0, 0, 32, 32] as const, label: a.label === 'circle' ? 'square' : 'circle' }],
    // Unlabelled right half: level 2 hits; the other class's box is ignored.
    [c.relativePath]: [
      { box: [16, 0, 32, 32] as const },
      { box: [0, 0, 16, 16] as const, label: 'triangle' },
    ],
    // Cut away by nothing (square pictures), but outside the picture: dropped.
    [d.relativePath]: [{ box: [40, 40, 50, 50] as const }],
  };
  const { report } = await evaluateWithPredictor(predict, items, { ...options, boxes });
  const loc = report.localisation;
  assert.ok(loc);
  assert.equal(loc.images, 2);
  assert.deepEqual(
    loc.levels.map((s) => s.hits),
    [1, 1],
  );
  // Random-peak rate of level 1: 1 of 4 cells for a, 2 of 4 for c.
  assert.equal(loc.levels[0].chanceRate, (1 / 4 + 2 / 4) / 2);
  // Energy of level 1: 0.7 / 1 inside a's box; 0.2 / 1 inside c's.
  assert.ok(Math.abs(loc.levels[0].energy - (0.7 + 0.2) / 2) < 1e-6);
  assert.equal(loc.combined.combination, 'mean');
  assert.equal(loc.combined.total, 2);
  // Without boxes there is no localisation in the report.
  assert.equal((await evaluateWithPredictor(predict, items, options)).report.localisation, undefined);
});

test('a predictor that answers for the wrong number of images is refused', async () => {
  const predict: BatchPredictor = async (_x, n) => ({ logits: new Float32Array(2 * n + 1), maps: [] });
  await assert.rejects(evaluateWithPredictor(predict, items, options), /Expected 6 logits/);
});

test('TensorFlow.js and onnxruntime give the same report for the same weights', async () => {
  const spec = validateSpec({
    inputSize: 32,
    width: 0.0625,
    numClasses: 2,
    attention: true,
    compatibility: 'pc',
    normalisation: 'softmax',
  });
  const weights = initWeights(spec, createRandom(11));
  const model = AttentionVgg.fromWeights(spec, weights);
  try {
    const before = tf.memory().numTensors;
    const onTfjs = await evaluateModel(model, items, options);
    assert.equal(tf.memory().numTensors, before, 'the TensorFlow.js predictor leaks no tensor');
    const onOnnx = await evaluateOnOnnxruntime(spec, weights, items, options, 1);
    assert.ok(Math.abs(onTfjs.report.loss - onOnnx.report.loss) < 1e-4);
    assert.deepEqual(
      onOnnx.report.predictions.map((p) => [p.path, p.predicted, p.mapsKey]),
      onTfjs.report.predictions.map((p) => [p.path, p.predicted, p.mapsKey]),
    );
    onTfjs.report.predictions.forEach((p, i) =>
      assert.ok(Math.abs(p.confidence - onOnnx.report.predictions[i].confidence) < 1e-4),
    );
    assert.deepEqual([...onOnnx.maps.keys()], [...onTfjs.maps.keys()]);
  } finally {
    model.dispose();
  }
});
