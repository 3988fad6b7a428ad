// BatchNorm arithmetic shared by the exporter and the importers: folding an inference-mode BatchNorm into
// the convolution before it, and the "identity" BatchNorm that a folded file imports as. Pure array code.

import { BN_EPSILON } from '../core/spec.js';
import type { NamedArray } from '../core/weights.js';

/** Inference-mode BatchNorm parameters of one layer: y = (x - mean) / sqrt(variance + eps) * scale + shift. */
export interface BatchNormParams {
  scale: Float32Array;
  shift: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

/**
 * Folds BatchNorm into a conv with weight [O, I, kH, kW] and bias [O]:
 *   w' = w * s,  b' = (b - mean) * s + shift,  s = scale / sqrt(variance + eps),
 * computed in double precision and rounded once to float32.
 */
export function foldBatchNorm(
  weight: NamedArray,
  bias: Float32Array,
  bn: BatchNormParams,
): { weight: NamedArray; bias: Float32Array } {
  const out = weight.shape[0];
  const per = weight.data.length / out;
  const w = new Float32Array(weight.data.length);
  const b = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    const s = bn.scale[o] / Math.sqrt(bn.variance[o] + bn.epsilon);
    for (let k = 0; k < per; k++) w[o * per + k] = weight.data[o * per + k] * s;
    b[o] = (bias[o] - bn.mean[o]) * s + bn.shift[o];
  }
  return { weight: { shape: [...weight.shape], data: w }, bias: b };
}

/**
 * Running variance of the BatchNorm that a folded file imports as: 1 - eps rounded to float32, so that
 * variance + eps == 1 exactly in float32 arithmetic and within 2e-8 of 1 in double arithmetic. With
 * scale 1, shift 0 and mean 0 this BatchNorm is the identity to within float32 rounding, and folding it
 * again changes no weight by more than a rounding step.
 */
export const IDENTITY_RUNNING_VAR = Math.fround(1 - BN_EPSILON);

/** The identity BatchNorm of `channels` channels in the model's own terms (weight, bias, running stats). */
export function identityBatchNorm(channels: number): {
  weight: Float32Array;
  bias: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
} {
  return {
    weight: new Float32Array(channels).fill(1),
    bias: new Float32Array(channels),
    runningMean: new Float32Array(channels),
    runningVar: new Float32Array(channels).fill(IDENTITY_RUNNING_VAR),
  };
}

/**
 * Re-expresses a BatchNorm with another epsilon in terms of the model's BN_EPSILON without changing what
 * it computes: scale' = scale * sqrt(variance + BN_EPSILON) / sqrt(variance + epsilon).
 */
export function toModelEpsilon(bn: BatchNormParams): BatchNormParams {
  if (bn.epsilon === BN_EPSILON) return bn;
  const scale = bn.scale.map(
    (g, i) => (g * Math.sqrt(bn.variance[i] + BN_EPSILON)) / Math.sqrt(bn.variance[i] + bn.epsilon),
  );
  return { ...bn, scale, epsilon: BN_EPSILON };
}
