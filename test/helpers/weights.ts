// Test weights: seeded initial weights with random BatchNorm statistics and affine terms, so parity and
// folding are tested on more than the identity.
import { createRandom } from '../../models/core/random.js';
import type { ModelSpec } from '../../models/core/spec.js';
import { initWeights, type Weights } from '../../models/core/weights.js';

export function randomiseBatchNorm(weights: Weights, seed: number): Weights {
  const r = createRandom(seed);
  for (const [name, a] of weights) {
    if (name.endsWith('running_mean') || name.endsWith('.bias'))
      a.data.forEach((_, i) => (a.data[i] = 0.2 * r.normal()));
    if (name.endsWith('running_var')) a.data.forEach((_, i) => (a.data[i] = 0.5 + r.next()));
    if (/^features\.\d+\.weight$/.test(name) && a.shape.length === 1)
      a.data.forEach((_, i) => (a.data[i] = 0.5 + r.next()));
  }
  return weights;
}

export function testWeights(spec: ModelSpec, seed: number): Weights {
  return randomiseBatchNorm(initWeights(spec, createRandom(seed)), seed + 1);
}
