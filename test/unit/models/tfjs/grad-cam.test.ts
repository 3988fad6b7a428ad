import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec } from '../../../../models/core/spec.js';
import { AttentionVgg } from '../../../../models/tfjs/model.js';
import { gradCamConv13, logitsFromConv13 } from '../../../../models/tfjs/grad-cam.js';
import { randomInput, relativeError, useCpuBackend } from '../../../helpers/tf.js';
import { testWeights } from '../../../helpers/weights.js';

// S = 64 gives a 4 x 4 conv-13 map (pool windows 2 x 2); width 1/16 gives 32 channels.
const SPEC: ModelSpec = {
  inputSize: 64,
  width: 0.0625,
  numClasses: 3,
  attention: false,
  compatibility: 'pc',
  normalisation: 'softmax',
};

describe('Grad-CAM at conv 13', () => {
  before(useCpuBackend);

  it('differentiates the same logits the model computes (pool5 rebuilt from conv 13)', () => {
    const model = AttentionVgg.fromWeights(SPEC, testWeights(SPEC, 3));
    try {
      tf.tidy(() => {
        const x = randomInput(2, 64, 7);
        const direct = model.forward(x).logits.dataSync();
        const f = model.backbone(x, { training: false });
        const rebuilt = logitsFromConv13(model, f.locals, f.locals[2]).dataSync();
        assert.ok(relativeError(rebuilt, direct) < 1e-6);
      });
    } finally {
      model.dispose();
    }
  });

  it('matches a finite-difference gradient and the Grad-CAM formula computed by hand', () => {
    const model = AttentionVgg.fromWeights(SPEC, testWeights(SPEC, 11));
    const x = randomInput(2, 64, 5);
    try {
      const before = tf.memory().numTensors;
      const cam = gradCamConv13(model, x);
      assert.equal(tf.memory().numTensors, before, 'Grad-CAM leaks no tensors');
      assert.equal(cam.height, 4);
      assert.equal(cam.width, 4);

      tf.tidy(() => {
        const f = model.backbone(x, { training: false });
        const l3 = f.locals[2];
        const [n, h, w, c] = l3.shape;
        const logits = model.forward(x).logits;
        assert.deepEqual(
          cam.classIndices,
          Array.from(tf.argMax(logits, 1).dataSync()),
          'explains the prediction',
        );
        const a = Float32Array.from(l3.dataSync());
        const value = (data: Float32Array, img: number): number => {
          const out = logitsFromConv13(model, f.locals, tf.tensor4d(data, [n, h, w, c])).dataSync();
          return out[img * SPEC.numClasses + cam.classIndices[img]];
        };
        // Finite differences at elements where the function is differentiable: the unique maximum of its
        // 2 x 2 pool window by a margin (gradient flows) or below the window's maximum by a margin (gradient 0).
        const grad = new Float64Array(a.length);
        const eps = 1e-2;
        let checked = 0;
        for (let img = 0; img < n; img++)
          for (let y = 0; y < h; y++)
            for (let xx = 0; xx < w; xx++)
              for (let ch = 0; ch < c; ch++) {
                const at = ((img * h + y) * w + xx) * c + ch;
                const y0 = y - (y % 2);
                const x0 = xx - (xx % 2);
                const others = [0, 1, 2, 3]
                  .map((k) => ((img * h + y0 + (k >> 1)) * w + x0 + (k & 1)) * c + ch)
                  .filter((i) => i !== at)
                  .map((i) => a[i]);
                const gap = a[at] - Math.max(...others);
                if (Math.abs(gap) < 4 * eps) continue;
                const plus = Float32Array.from(a);
                plus[at] += eps;
                const minus = Float32Array.from(a);
                minus[at] -= eps;
                grad[at] = (value(plus, img) - value(minus, img)) / (2 * eps);
                checked += 1;
              }
        assert.ok(checked > 100, `enough differentiable elements (${checked})`);
        // The autodiff gradient Grad-CAM uses, for the same elements.
        const mask = tf.oneHot(tf.tensor1d(cam.classIndices, 'int32'), SPEC.numClasses);
        const auto = tf
          .grad((t: tf.Tensor) => tf.sum(tf.mul(logitsFromConv13(model, f.locals, t as tf.Tensor4D), mask)))(
            l3,
          )
          .dataSync();
        let worst = 0;
        let scale = 0;
        for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(auto[i]));
        for (let i = 0; i < a.length; i++)
          if (grad[i] !== 0) worst = Math.max(worst, Math.abs(grad[i] - auto[i]));
        assert.ok(worst / scale < 2e-3, `finite differences vs autodiff: ${worst / scale}`);
        assert.ok(scale > 0);

        // The formula by hand: alpha_k = mean of dy/dA_k, cam = ReLU(sum_k alpha_k A_k), / max.
        for (let img = 0; img < n; img++) {
          const alpha = new Float64Array(c);
          for (let p = 0; p < h * w; p++)
            for (let ch = 0; ch < c; ch++) alpha[ch] += auto[(img * h * w + p) * c + ch] / (h * w);
          const hand = new Float64Array(h * w);
          for (let p = 0; p < h * w; p++) {
            let s = 0;
            for (let ch = 0; ch < c; ch++) s += alpha[ch] * a[(img * h * w + p) * c + ch];
            hand[p] = Math.max(0, s);
          }
          const peak = Math.max(...hand);
          const expected = hand.map((v) => (peak > 0 ? v / peak : 0));
          assert.ok(relativeError(cam.maps[img], expected) < 1e-4, `image ${img}`);
          assert.ok(Math.max(...cam.maps[img]) <= 1 && Math.min(...cam.maps[img]) >= 0);
        }
      });
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  it('explains a chosen class and refuses impossible ones', () => {
    const model = AttentionVgg.fromWeights(SPEC, testWeights(SPEC, 4));
    const x = randomInput(2, 64, 1);
    try {
      const forClass = gradCamConv13(model, x, [2, 0]);
      assert.deepEqual(forClass.classIndices, [2, 0]);
      assert.throws(() => gradCamConv13(model, x, [3, 0]), /not in \[0, 2\]/);
      assert.throws(() => gradCamConv13(model, x, [1]), /Expected 2 class indices/);
    } finally {
      x.dispose();
      model.dispose();
    }
  });
});
