// Grad-CAM at conv 13 on onnxruntime (models/onnx-train/grad-cam-session.ts, the graph written with the
// training engine's layers and tape) against the TensorFlow.js implementation
// (models/tfjs/grad-cam.ts's gradCamConv13, `cpu` backend), for the same weights and images:
// the plain model (attention off) and, since the graph supports it, an attention model; the predicted
// classes and given ones.
//
// Routing: Grad-CAM's channel weight is the mean of dy/dA over all positions, so which position of a
// pooling window gets pool5's gradient (a near-tie there) does not change the map. What could differ
// between the engines is a ReLU of g (plain head) whose input sits within rounding of 0, and, for the
// predicted class, two logits within rounding of each other: the batches are checked to have neither.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec } from '../../../models/core/spec.js';
import type { Weights } from '../../../models/core/weights.js';
import { OnnxTrainError } from '../../../models/onnx-train/errors.js';
import {
  createOnnxGradCam,
  type GradCamResult,
  type OnnxGradCam,
} from '../../../models/onnx-train/grad-cam-session.js';
import { AttentionVgg } from '../../../models/tfjs/model.js';
import { gradCamConv13 } from '../../../models/tfjs/grad-cam.js';
import { relativeError, useCpuBackend } from '../../helpers/tf.js';
import { webgpuMissing } from '../../helpers/webgpu.js';
import { testWeights } from '../../helpers/weights.js';
import { makeBatch, S64_PC_SPEC } from './engines.js';

/**
 * Largest difference allowed between the engines' maps (values in [0, 1]) and the relative error of the
 * probabilities. Measured (2026-12-07, tfjs cpu against onnxruntime's CPU provider): maps up to 1.4e-6,
 * probabilities up to 1.1e-7; against the WebGPU provider (lavapipe): 8.9e-7 and 1.7e-7 (the engines
 * sum in different orders; the map divides by its peak, so its errors stay relative to 1). A wrong
 * gradient moves maps far more: masking pool5's gradient where the pooled value is 0 (reluMaxPool2x2's
 * ReLU rule, wrong for A, the ReLU's output) moved a map by 0.12, and cutting the gradient through
 * attention level 3 moved one by 1 (tried).
 */
const MAP_TOLERANCE = 1e-4;
const PROBABILITY_TOLERANCE = 1e-5;

const BATCH = 6;
interface Case {
  name: string;
  spec: ModelSpec;
  seed: number;
}
const cases: Case[] = [
  {
    // S = 64: conv 13 is 4 x 4, pool5 2 x 2 (so the (C, H, W) flatten order counts).
    name: 'plain model (attention off), S=64 w=0.25',
    spec: {
      inputSize: 64,
      width: 0.25,
      numClasses: 5,
      attention: false,
      compatibility: 'pc',
      normalisation: 'softmax',
    },
    seed: 3,
  },
  {
    name: 'attention model pc/softmax, S=64 w=0.125',
    spec: S64_PC_SPEC,
    seed: 3, // some seeds give maps that are 0 everywhere (every cam negative), which would test little
  },
];

function tfjsGradCam(spec: ModelSpec, weights: Weights, nhwc: Float32Array, classes?: number[]) {
  const model = AttentionVgg.fromWeights(spec, weights);
  const s = spec.inputSize;
  const x = tf.tensor4d(nhwc, [BATCH, s, s, 3]);
  try {
    const cam = gradCamConv13(model, x, classes);
    // The gates where the engines could part: |g| before the plain head's ReLU, the top-two logit gap.
    const gMin = tf.tidy(() => {
      const pool5 = model.backbone(x, { training: false }).pool5;
      const g = tf.add(tf.matMul(pool5, model.variable('g.weight')), model.variable('g.bias'));
      return tf.min(tf.abs(g)).dataSync()[0];
    });
    return { cam, gMin };
  } finally {
    x.dispose();
    model.dispose();
  }
}

function topTwoLogitGap(p: Float32Array, k: number): number {
  let gap = Infinity;
  for (let i = 0; i < p.length / k; i++) {
    const row = Array.from(p.subarray(i * k, (i + 1) * k)).sort((a, b) => b - a);
    gap = Math.min(gap, Math.log(row[0]) - Math.log(row[1]));
  }
  return gap;
}

function compare(got: GradCamResult, want: GradCamResult, mapTolerance: number, label: string): number {
  // Maps worth comparing: each has a peak of 1 and, among them, values that are neither 0 nor 1.
  const between = want.maps.flatMap((m) => Array.from(m)).filter((v) => v > 0.01 && v < 0.99).length;
  assert.ok(
    want.maps.every((m) => Math.max(...m) === 1) && between >= want.maps.length,
    `${label}: the reference maps are degenerate (pick another seed)`,
  );
  assert.deepEqual(got.classIndices, want.classIndices, `${label}: explained classes`);
  assert.equal(got.height, want.height);
  assert.equal(got.width, want.width);
  assert.equal(got.maps.length, want.maps.length);
  let worst = 0;
  for (let i = 0; i < want.maps.length; i++) {
    const d = Math.max(...got.maps[i].map((v, j) => Math.abs(v - want.maps[i][j])));
    worst = Math.max(worst, d);
    assert.ok(d <= mapTolerance, `${label}: map ${i} differs by ${d}`);
    assert.ok(Math.min(...got.maps[i]) >= 0 && Math.max(...got.maps[i]) <= 1, `${label}: map ${i} in [0, 1]`);
  }
  const pe = relativeError(got.probabilities, want.probabilities);
  assert.ok(pe <= PROBABILITY_TOLERANCE, `${label}: probabilities differ by ${pe}`);
  console.log(
    `# ${label}: largest map difference ${worst.toExponential(2)}, probabilities ${pe.toExponential(2)}`,
  );
  return worst;
}

before(useCpuBackend);

describe('Grad-CAM at conv 13 on onnxruntime equals the TensorFlow.js implementation', () => {
  const opened: OnnxGradCam[] = [];
  after(async () => {
    for (const g of opened) await g.dispose();
  });

  for (const c of cases)
    test(c.name, async () => {
      const weights = testWeights(c.spec, c.seed);
      const batch = makeBatch(c.spec, BATCH, c.seed + 100);
      const onnx = await createOnnxGradCam(c.spec, weights, { device: 'cpu', intraOpThreads: 2 });
      opened.push(onnx);
      const k = c.spec.numClasses;

      const predicted = tfjsGradCam(c.spec, weights, batch.nhwc);
      assert.ok(
        predicted.gMin > 1e-4,
        `a ReLU input of g is within ${predicted.gMin} of 0: pick another seed`,
      );
      const gap = topTwoLogitGap(predicted.cam.probabilities, k);
      assert.ok(gap > 1e-3, `two logits are within ${gap}: pick another seed`);
      compare(await onnx.explain(batch.nhwc, BATCH), predicted.cam, MAP_TOLERANCE, `${c.name}, predicted`);

      // Other classes than the predicted ones (each image's next class): other gradients, other maps.
      const given = predicted.cam.classIndices.map((p) => (p + 1) % k);
      const want = tfjsGradCam(c.spec, weights, batch.nhwc, given).cam;
      assert.deepEqual(want.classIndices, given);
      const got = await onnx.explain(batch.nhwc, BATCH, given);
      compare(got, want, MAP_TOLERANCE, `${c.name}, given classes`);
      const moved = Math.max(
        ...want.maps.map((m, i) => Math.max(...m.map((v, j) => Math.abs(v - predicted.cam.maps[i][j])))),
      );
      assert.ok(moved > 100 * MAP_TOLERANCE, `another class changes the maps (${moved})`);

      // NCHW input gives the same maps.
      const nchw = await createOnnxGradCam(c.spec, weights, { inputLayout: 'nchw', intraOpThreads: 2 });
      opened.push(nchw);
      compare(await nchw.explain(batch.nchw, BATCH, given), want, MAP_TOLERANCE, `${c.name}, NCHW input`);
    });

  test('refuses classes out of range, a wrong count and a wrong image size', async () => {
    const spec = cases[0].spec;
    const onnx = await createOnnxGradCam(spec, testWeights(spec, 1), { intraOpThreads: 2 });
    opened.push(onnx);
    const x = makeBatch(spec, 2, 1).nhwc;
    await assert.rejects(
      onnx.explain(x, 2, [5, 0]),
      (e) => e instanceof OnnxTrainError && /not in \[0, 4\]/.test(e.message),
    );
    await assert.rejects(onnx.explain(x, 2, [1]), /Expected 2 class indices/);
    await assert.rejects(onnx.explain(x, 3), /Expected 3 images/);
    await onnx.dispose();
    await assert.rejects(onnx.explain(x, 2), (e) => e instanceof OnnxTrainError && e.kind === 'disposed');
  });
});

const missing = await webgpuMissing();
if (missing) console.log(`# skipped: ${missing}`);

test('Grad-CAM of the plain model on webgpu equals TensorFlow.js', { skip: missing ?? false }, async () => {
  const c = cases[0];
  const weights = testWeights(c.spec, c.seed);
  const batch = makeBatch(c.spec, BATCH, c.seed + 100);
  const want = tfjsGradCam(c.spec, weights, batch.nhwc).cam;
  const gpu = await createOnnxGradCam(c.spec, weights, { device: 'webgpu', intraOpThreads: 1 });
  try {
    compare(await gpu.explain(batch.nhwc, BATCH), want, MAP_TOLERANCE, 'webgpu, predicted');
  } finally {
    await gpu.dispose();
  }
});
