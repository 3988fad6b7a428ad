// The additive compatibility of attention-VGG16_bn (models/README.md) in TensorFlow.js: the scores
// c(s) = <u, ReLU(W_l l(s) + W_g g)> of one attention level, for the full model (model.ts) and for the
// cached transfer path (head-trainer.ts), which pass the products they differentiate best.
// Imports tfjs-core only.

import * as tf from '@tensorflow/tfjs-core';

/** A 2-D product a b; model.ts passes tf.matMul, head-trainer.ts its transposed-products. */
export type Product = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

export interface AdditiveTerms {
  /** W_l l(s) for every position of every image, [n * positions, H] (position-major within an image). */
  localHidden: tf.Tensor2D;
  /** The global feature g, [n, C]. */
  g: tf.Tensor2D;
  /** W_g in TensorFlow layout, [C, H]. */
  wg: tf.Tensor2D;
  /** u in TensorFlow layout, [H, 1]. */
  u: tf.Tensor2D;
}

/** The level's scores [n, positions]: <u, ReLU(W_l l(s) + W_g g)>. */
export function additiveScores(
  t: AdditiveTerms,
  n: number,
  positions: number,
  multiply: Product = tf.matMul,
): tf.Tensor2D {
  const hidden = t.u.shape[0];
  const globalHidden = tf.reshape(multiply(t.g, t.wg), [n, 1, hidden]);
  const pre = tf.add(tf.reshape(t.localHidden, [n, positions, hidden]), globalHidden);
  const activated = tf.reshape(tf.relu(pre), [n * positions, hidden]) as tf.Tensor2D;
  return tf.reshape(multiply(activated, t.u), [n, positions]) as tf.Tensor2D;
}
