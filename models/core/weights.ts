// Model weights as named float32 arrays in PyTorch layout (OIHW convs, [out, in] linears): the neutral
// form that checkpoints, the ONNX writer and the importer exchange. Pure: no TensorFlow.js here.

import { parameterLayout, type ModelSpec, type ParamInfo } from './spec.js';
import type { Random } from './random.js';

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

export type Weights = Map<string, NamedArray>;

export class WeightsError extends Error {
  override name = 'WeightsError';
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function fanIn(p: ParamInfo, layout: ParamInfo[]): number {
  // A bias takes the fan-in of the weight it belongs to, as in PyTorch's reset_parameters.
  if (p.role === 'conv.bias' || p.role === 'g.bias' || p.role === 'head.bias') {
    const weight = layout.find((q) => q.name === p.name.replace(/bias$/, 'weight'));
    if (!weight) throw new WeightsError(`No weight for bias ${p.name}`);
    return sizeOf(weight.shape.slice(1));
  }
  return sizeOf(p.shape.slice(1));
}

/**
 * Fresh weights with PyTorch's default initialisation (what the peer model gets): conv and linear
 * weights and biases uniform in +-1/sqrt(fan_in) (kaiming_uniform with a = sqrt(5)); BatchNorm scale 1,
 * shift 0, running mean 0, running variance 1.
 */
export function initWeights(spec: ModelSpec, random: Random): Weights {
  const layout = parameterLayout(spec);
  const weights: Weights = new Map();
  for (const p of layout) {
    const data = new Float32Array(sizeOf(p.shape));
    if (p.role === 'bn.weight' || p.role === 'bn.running_var') data.fill(1);
    else if (p.role === 'bn.bias' || p.role === 'bn.running_mean') data.fill(0);
    else {
      const bound = 1 / Math.sqrt(fanIn(p, layout));
      for (let i = 0; i < data.length; i++) data[i] = (2 * random.next() - 1) * bound;
    }
    weights.set(p.name, { shape: [...p.shape], data });
  }
  return weights;
}

/** Checks that `weights` holds exactly the tensors of `spec`, with the right shapes. */
export function checkWeights(spec: ModelSpec, weights: Weights): void {
  const layout = parameterLayout(spec);
  const problems: string[] = [];
  for (const p of layout) {
    const w = weights.get(p.name);
    if (!w) problems.push(`missing ${p.name}`);
    else if (w.shape.join('x') !== p.shape.join('x'))
      problems.push(`${p.name}: expected shape [${p.shape}], found [${w.shape}]`);
    else if (w.data.length !== sizeOf(p.shape)) problems.push(`${p.name}: data length ${w.data.length}`);
  }
  const known = new Set(layout.map((p) => p.name));
  for (const name of weights.keys()) if (!known.has(name)) problems.push(`unexpected ${name}`);
  if (problems.length > 0)
    throw new WeightsError(
      `Weights do not match the model spec (${problems.length} problem${problems.length > 1 ? 's' : ''}): ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? '; ...' : ''}`,
    );
}

export function cloneWeights(weights: Weights): Weights {
  return new Map([...weights].map(([k, v]) => [k, { shape: [...v.shape], data: v.data.slice() }]));
}
