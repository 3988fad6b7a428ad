// torch.optim.Adam / AdamW as ONNX nodes, the update of models/train/optimizer.ts operation for operation
// (same float32 roundings): Adam adds the coupled L2 term to the gradient (g' = g + wd p); AdamW first
// decays the weight (p' = p (1 - lr wd)) and leaves the gradient alone. Then
//   m' = b1 m + (1 - b1) g',  v' = b2 v + (1 - b2) g'^2,
//   p'' = p' - step_size m' / (sqrt(v') / sqrt(1 - b2^t) + eps),  step_size = lr / (1 - b1^t),
// with eps added after the bias correction of sqrt(v), as PyTorch does. The per-step scalars (step_size,
// sqrt(1 - b2^t), 1 - lr wd) depend on the step count t and are computed by the driver in float64, as
// the TensorFlow.js optimiser does; betas and eps are constants of the graph. Pure: graph writer only.

import type { GraphWriter } from './graph-writer.js';

export interface AdamConstants {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** AdamW: decoupled weight decay. */
  decoupled: boolean;
}

export interface AdamHyperTensors {
  /** Adam: the coupled L2 factor wd. */
  weightDecay: string;
  /** AdamW: 1 - lr wd, the decoupled decay factor. */
  decayFactor: string;
  /** lr / (1 - b1^t). */
  stepSize: string;
  /** sqrt(1 - b2^t). */
  biasCorrection2Sqrt: string;
}

export interface AdamUpdate {
  param: string;
  m: string;
  v: string;
}

/** Defaults of torch.optim.Adam and of models/train/optimizer.ts. */
export const ADAM_DEFAULTS = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;

export function adamUpdate(
  w: GraphWriter,
  hyper: AdamHyperTensors,
  c: AdamConstants,
  param: string,
  grad: string,
  m: string,
  v: string,
  hint: string,
): AdamUpdate {
  let g = grad;
  let p = param;
  if (c.decoupled) p = w.op('Mul', [param, hyper.decayFactor], `${hint}_decayed`);
  else g = w.op('Add', [grad, w.op('Mul', [param, hyper.weightDecay], `${hint}_decay`)], `${hint}_grad_l2`);
  const nextM = w.op(
    'Add',
    [
      w.op('Mul', [m, w.scalar(c.beta1)], `${hint}_m_b1`),
      w.op('Mul', [g, w.scalar(1 - c.beta1)], `${hint}_g_1mb1`),
    ],
    `${hint}_m_next`,
  );
  const nextV = w.op(
    'Add',
    [
      w.op('Mul', [v, w.scalar(c.beta2)], `${hint}_v_b2`),
      w.op('Mul', [w.op('Mul', [g, g], `${hint}_g2`), w.scalar(1 - c.beta2)], `${hint}_g2_1mb2`),
    ],
    `${hint}_v_next`,
  );
  const denom = w.op(
    'Add',
    [
      w.op('Div', [w.op('Sqrt', [nextV], `${hint}_sqrt_v`), hyper.biasCorrection2Sqrt], `${hint}_v_hat`),
      w.scalar(c.epsilon),
    ],
    `${hint}_denom`,
  );
  const step = w.op('Mul', [w.op('Div', [nextM, denom], `${hint}_ratio`), hyper.stepSize], `${hint}_step`);
  return { param: w.op('Sub', [p, step], `${hint}_next`), m: nextM, v: nextV };
}
