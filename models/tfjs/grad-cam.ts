// Grad-CAM (Selvaraju et al., 2017) at conv 13 of a model, with TensorFlow.js gradients: the explanation
// the plain VGG16_bn head has no maps of its own for. The comparison runs the onnxruntime implementation
// (models/onnx-train/grad-cam-graph.ts, through plain-grad-cam.ts, on the run's device); this one is its
// independent reference (test/integration/onnx-train/grad-cam-parity.test.ts). For each image, A = conv
// 13's output after ReLU (the l3 tap, [S/16, S/16, C]), y = the logit of the explained class (the
// predicted one by default):
//   alpha_k = mean over positions of dy/dA_k      (channel weights)
//   cam     = ReLU(sum_k alpha_k A_k)             ([S/16, S/16])
//   cam     = cam / max(cam)                      (0 everywhere when the maximum is 0)
// Inference mode (BatchNorm on running statistics), so each image's logit depends on its own activations
// only and one gradient of the summed selected logits gives every image's gradient. Imports models/ only.

import * as tf from '@tensorflow/tfjs-core';
import type { GradCamResult } from '../core/grad-cam-result.js';
import './gradients.js';
import type { AttentionVgg } from './model.js';

export type { GradCamResult };

/** pool5 from conv 13's output exactly as AttentionVgg.backbone forms it: 2x2 max-pool, (C, H, W) flatten. */
function pool5Of(l3: tf.Tensor4D): tf.Tensor2D {
  const pooled = tf.maxPool(l3, 2, 2, 'valid');
  return tf.reshape(tf.transpose(pooled, [0, 3, 1, 2]), [l3.shape[0], -1]);
}

/** The logits as a function of conv 13's output (the other taps fixed): what Grad-CAM differentiates. */
export function logitsFromConv13(
  model: AttentionVgg,
  locals: readonly [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D],
  l3: tf.Tensor4D,
): tf.Tensor2D {
  return model.attend({ locals: [locals[0], locals[1], l3], pool5: pool5Of(l3) }).logits;
}

/** x: normalised NHWC batch. `classIndices` defaults to each image's predicted class. Leaves no tensors. */
export function gradCamConv13(
  model: AttentionVgg,
  x: tf.Tensor4D,
  classIndices?: readonly number[],
): GradCamResult {
  return tf.tidy(() => {
    const features = model.backbone(x, { training: false });
    const l3 = features.locals[2];
    const logits = logitsFromConv13(model, features.locals, l3);
    const [n, k] = logits.shape;
    const chosen = classIndices ? [...classIndices] : Array.from(tf.argMax(logits, 1).dataSync());
    if (chosen.length !== n) throw new Error(`Expected ${n} class indices, got ${chosen.length}`);
    for (const c of chosen)
      if (!Number.isInteger(c) || c < 0 || c >= k)
        throw new Error(`Class index ${c} is not in [0, ${k - 1}]`);
    const mask = tf.oneHot(tf.tensor1d(chosen, 'int32'), k);
    const selected = (a: tf.Tensor): tf.Scalar =>
      tf.sum(tf.mul(logitsFromConv13(model, features.locals, a as tf.Tensor4D), mask));
    const grads = tf.grad(selected)(l3) as tf.Tensor4D;
    const weights = tf.mean(grads, [1, 2], true); // [N, 1, 1, C]
    const cam = tf.relu(tf.sum(tf.mul(l3, weights), 3)); // [N, h, w]
    const peak = tf.max(cam, [1, 2], true);
    const normalised = tf.where(tf.greater(peak, 0), tf.div(cam, tf.maximum(peak, 1e-30)), tf.zerosLike(cam));
    const [, h, w] = normalised.shape;
    const data = normalised.dataSync() as Float32Array;
    const maps = Array.from({ length: n }, (_, i) =>
      Float32Array.from(data.subarray(i * h * w, (i + 1) * h * w)),
    );
    return {
      maps,
      height: h,
      width: w,
      classIndices: chosen,
      probabilities: Float32Array.from(tf.softmax(logits).dataSync()),
    };
  });
}
