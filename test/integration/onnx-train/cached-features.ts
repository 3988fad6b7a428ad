// Cached features for the features-graph tests: what the full training graph itself computes for conv 7,
// 10, 13 after ReLU and pool5 (its debug outputs, on the CPU), in the feature cache's NHWC layout.
import type { ModelSpec } from '../../../models/core/spec.js';
import type { NamedArray, Weights } from '../../../models/core/weights.js';
import { createOnnxTrainer, type FeatureInputs } from '../../../models/onnx-train/trainer.js';
import type { Batch } from './engines.js';

/** NCHW [n, c, h, w] -> NHWC, as the feature cache stores its tensors. */
function toNhwc(data: Float32Array, n: number, c: number, side: number): NamedArray {
  const out = new Float32Array(data.length);
  const hw = side * side;
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let p = 0; p < hw; p++) out[(b * hw + p) * c + ch] = data[(b * c + ch) * hw + p];
  return { shape: [n, side, side, c], data: out };
}

/** What the full graph computed for conv 7, 10 (13) after ReLU and pool5, as a batch of cached features. */
export async function featuresOf(
  spec: ModelSpec,
  weights: Weights,
  batch: Batch,
  frozenBlocks: 4 | 5,
): Promise<FeatureInputs> {
  const taps = ['relu7', 'relu10', 'relu13', 'pool5'];
  const probe = await createOnnxTrainer(spec, weights, {
    frozenBlocks,
    inputLayout: 'nhwc',
    debugOutputs: taps,
  });
  try {
    const { debug } = await probe.step(batch.nhwc, batch.labels, { lr: 0 });
    const d = debug as Record<string, Float32Array>;
    const s = spec.inputSize;
    const c256 = Math.round(256 * spec.width);
    const c512 = Math.round(512 * spec.width);
    const locals = [
      toNhwc(d.relu7, batch.n, c256, s / 4),
      toNhwc(d.relu10, batch.n, c512, s / 8),
      toNhwc(d.relu13, batch.n, c512, s / 16),
    ];
    if (frozenBlocks === 4) return { locals: locals.slice(0, 2) };
    return { locals, pool5: { shape: [batch.n, d.pool5.length / batch.n], data: d.pool5 } };
  } finally {
    await probe.dispose();
  }
}
